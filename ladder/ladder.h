/* ladder.h - the ladder tool: a packet as decoded, an exchange as drawn, one error type. */
#ifndef LADDER_H
#define LADDER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum {
    LADDER_MAX_DEFAULT = 200,  /* arrows drawn unless --max says otherwise */
    LADDER_MAX_LIMIT = 100000, /* --max at most: memory stays bounded */
    LADDER_TEXT_MAX = 24,      /* payload bytes kept to show as text */
};

enum ladder_proto { LADDER_TCP, LADDER_UDP, LADDER_ICMP };

/* TCP flags, as the header's flags byte holds them */
enum {
    LADDER_FIN = 0x01,
    LADDER_SYN = 0x02,
    LADDER_RST = 0x04,
    LADDER_PSH = 0x08,
    LADDER_ACK = 0x10,
};

/* what the sequence numbers say about a TCP segment */
enum ladder_mark { LADDER_NEW, LADDER_RETRANSMISSION, LADDER_KEEPALIVE };

/* An error the caller prints: the message, without the program's or the file's name. */
struct ladder_error {
    char msg[512];
};

struct ladder_endpoint {
    uint8_t family; /* 4 or 6 */
    uint8_t addr[16];
    uint16_t port; /* 0 for ICMP */
};

/* One packet as the wire had it, before any bookkeeping across packets. */
struct ladder_pkt {
    uint64_t frame;  /* its number in the capture, from 1, as tshark counts */
    int64_t time_ns; /* since the capture's first packet */
    enum ladder_proto proto;
    struct ladder_endpoint src, dst;
    uint8_t flags;     /* TCP */
    uint32_t seq, ack; /* TCP, as on the wire */
    uint32_t len;      /* payload bytes (TCP, UDP) */
    uint8_t icmp_type, icmp_code;
    uint8_t icmp_error; /* 1: an ICMP error, quoting the packet below */
    enum ladder_proto quoted_proto;
    struct ladder_endpoint quoted_src, quoted_dst;
    uint8_t text_len; /* payload bytes kept in text */
    char text[LADDER_TEXT_MAX];
};

/* One arrow: a packet, which way it goes, and what the exchange so far says of it. */
struct ladder_arrow {
    struct ladder_pkt pkt;
    uint32_t flow;   /* index into the exchange's flows */
    uint8_t to_left; /* 1: from the right-hand host to the left-hand one */
    enum ladder_mark mark;
    uint32_t rel_seq, rel_ack; /* relative, as Wireshark shows them */
    uint64_t answers;          /* ICMP error: the frame it answers, 0 if not in the capture */
    uint8_t unseen; /* two captures of one exchange: the other never saw it (lost between) */
};

/* One direction of a TCP connection: where its sequence numbers start and reach. */
struct ladder_seqspace {
    uint32_t base; /* relative 0 */
    uint32_t next; /* highest seq + length seen */
    uint8_t known;
};

/* A conversation: left is the host that spoke first (or sent the SYN). */
struct ladder_flow {
    enum ladder_proto proto;
    struct ladder_endpoint left, right;
    struct ladder_seqspace dir[2]; /* [0]: left to right */
};

/* A capture read into arrows: at most max of them, the rest only counted. */
struct ladder_exchange {
    const char *path;
    int port; /* --port: 0 for every port */
    int only; /* --apart: -1 every protocol, else only this one (ICMP errors with what they quote)
               */
    int64_t origin_ns; /* --apart: the time of the first packet drawn, which is drawn at 0 */
    size_t max;
    struct ladder_arrow *arrows;
    size_t narrows;
    struct ladder_flow *flows;
    size_t nflows;
    uint32_t *slots; /* hash of flows: index + 1, 0 when free */
    size_t nslots;
    uint64_t frames;         /* every frame read */
    uint64_t tcp, udp, icmp; /* packets drawn or counted, by protocol */
    uint64_t more;           /* packets past max */
    uint64_t unseen;         /* arrows the other capture of the same exchange never saw */
    char cut[256];           /* why the capture ended early, "" if it did not */
};

/* capture.c: one capture, read packet by packet, from ex->path or from an open file */
int ladder_read(struct ladder_exchange *ex, struct ladder_error *err);
int ladder_read_file(struct ladder_exchange *ex, FILE *file, struct ladder_error *err);

/* decode.c: from the first byte of an IP header to a packet; -1 if nothing to draw */
int ladder_decode_ip(const uint8_t *p, size_t n, struct ladder_pkt *pkt);

/* exchange.c */
int ladder_exchange_init(struct ladder_exchange *ex, const char *path, size_t max, int port,
                         struct ladder_error *err);
void ladder_exchange_free(struct ladder_exchange *ex);
void ladder_exchange_add(struct ladder_exchange *ex, const struct ladder_pkt *pkt);

/* compare.c: two captures of one exchange (its two ends): mark what one saw and the other
 * did not; -1 if there was no memory to compare them */
int ladder_compare(struct ladder_exchange *a, struct ladder_exchange *b);

/* Arrows of one or two exchanges in time order: which exchange, which arrow. */
struct ladder_walk {
    struct ladder_exchange *const *ex;
    int count;
    size_t next[2];
};
void ladder_walk_start(struct ladder_walk *w, struct ladder_exchange *const *ex, int count);
int ladder_walk_next(struct ladder_walk *w, const struct ladder_arrow **arrow);

/* label.c: the words on an arrow, the same in every format */
void ladder_label(const struct ladder_arrow *a, char *buf, size_t size);
void ladder_label_text(const struct ladder_arrow *a, char *buf, size_t size);
void ladder_label_addr(const struct ladder_endpoint *e, char *buf, size_t size);
void ladder_label_endpoint(const struct ladder_endpoint *e, char *buf, size_t size);
const char *ladder_label_proto(const struct ladder_exchange *ex);
void ladder_label_summary(const struct ladder_exchange *ex, char *buf, size_t size);
int ladder_same_hosts(const struct ladder_flow *a, const struct ladder_flow *b);

/* the formats: one or two exchanges (TCP and UDP side by side) */
int ladder_text_write(FILE *out, struct ladder_exchange *const *ex, int count);
int ladder_mermaid_write(FILE *out, struct ladder_exchange *const *ex, int count);
int ladder_svg_write(FILE *out, struct ladder_exchange *const *ex, int count);
int ladder_html_write(FILE *out, struct ladder_exchange *const *ex, int count);

/* svg.c: the drawing itself, which the HTML page holds inline */
int ladder_svg_body(FILE *out, struct ladder_exchange *const *ex, int count);
void ladder_xml_puts(FILE *out, const char *s);

#endif
