/* out.h - what both programs print: text for people, one JSON object per line for scripts. */
#ifndef SOCKLAB_OUT_H
#define SOCKLAB_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

enum net_proto { NET_TCP, NET_UDP };

/* "tcp" or "udp". */
const char *net_proto_name(enum net_proto proto);

/* A JSON object built in place and written as one line. It grows as needed (into the heap
 * past the first kilobyte): an object is written whole or, out of memory, not at all. */
struct net_json {
    char *buf; /* small, or a heap buffer once the object outgrew it */
    size_t len, cap;
    bool failed; /* out of memory: net_json_end writes nothing */
    char small[1024];
};

void net_json_begin(struct net_json *j);
/* Strings, from text or from raw bytes: control characters, NUL included, are escaped;
 * valid UTF-8 passes as it is; each byte that is not part of valid UTF-8 is written as
 * \u00XX, its value (so the line is valid JSON and the byte can still be read back). */
void net_json_str(struct net_json *j, const char *key, const char *value);
void net_json_bytes(struct net_json *j, const char *key, const void *data, size_t len);
void net_json_int(struct net_json *j, const char *key, long long value);
void net_json_num(struct net_json *j, const char *key, double value, int decimals);
void net_json_bool(struct net_json *j, const char *key, bool value);
/* A nested object: "name":{ ... }, closed by net_json_close. */
void net_json_object(struct net_json *j, const char *name);
void net_json_close(struct net_json *j);
void net_json_end(struct net_json *j, FILE *fp);

/* What a server counts; printed on exit and on SIGUSR1. */
struct net_counters {
    unsigned long long clients;  /* connections accepted, or distinct datagram sources */
    unsigned long long msgs_in;  /* receive calls that returned data (TCP), datagrams (UDP) */
    unsigned long long msgs_out; /* replies sent */
    unsigned long long bytes_in;
    unsigned long long bytes_out;
    unsigned long long truncated; /* datagrams longer than --recv-size, dropped */
    unsigned long long refused;   /* datagrams dropped by the reflection policy */
    unsigned long long errors;    /* connections ended by an error (reset, ...) */
    bool clients_at_least;        /* UDP: more sources than the server can remember */
};

/* Add one worker's counters (a thread's, a child process's) to the server's; clients are
 * counted where connections are accepted, so they are not added. */
void net_counters_add(struct net_counters *to, const struct net_counters *from);

/* Set once by main: program name, --json, -v count, -q. Makes stdout line-buffered. */
void net_out_init(const char *prog, bool json, int verbose, bool quiet);
const char *net_out_prog(void);
bool net_out_json(void);
int net_out_verbose(void);
bool net_out_quiet(void);

/* The server's first line: "listening on 127.0.0.1:40123 (tcp)", and a warning on stderr
 * when the address is a wildcard. */
void net_out_listening(enum net_proto proto, const struct sockaddr *sa, socklen_t len);
/* -v: "holding [::1]:PORT" for the socket a default server keeps there (fd -1: none). */
void net_out_held(int fd);
/* A lifecycle event for -v ("accepted", "closed", "first datagram"), about peer. */
void net_out_peer(const char *event, const struct sockaddr *peer, socklen_t len,
                  const char *detail);
/* A notice everyone should see (not -q): "truncated datagram from ...". At most 10 a
 * second, and never when stdout would block: the rest are left out and counted. */
void net_out_notice(const char *event, const struct sockaddr *peer, socklen_t len,
                    const char *detail);
/* Once a second: one line "suppressed: N more notices" for those left out. */
void net_out_notice_flush(void);
/* -v: "option SO_RCVBUF 4096: the kernel grants 8192", once per option. */
void net_out_sockopt(const char *name, long requested, long granted);
/* "tcp-echo: warning: ..." on stderr. */
void net_out_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* SIGUSR1 in a client sending messages (-m, stdin): bytes each way so far, on one line. */
void net_out_transfer(unsigned long long sent, unsigned long long received, double ms);
/* The server's counters, as the summary line. */
void net_out_counters(enum net_proto proto, const char *event, const struct net_counters *c);

#endif
