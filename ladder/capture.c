/* capture.c - a capture file read packet by packet with libpcap, down to the IP header. */
#include "ladder.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* where the IP header starts after each link layer's own header; -1 if not IP at all */
static long ethernet_offset(const uint8_t *p, size_t n)
{
    size_t off = 12;
    /* VLAN tags (802.1Q, 802.1ad) sit between the addresses and the real type */
    while (off + 2 <= n) {
        unsigned type = (unsigned)p[off] << 8 | p[off + 1];
        if (type == 0x0800 || type == 0x86dd)
            return (long)off + 2;
        if (type != 0x8100 && type != 0x88a8)
            return -1;
        off += 4;
    }
    return -1;
}

/* the byte where IP starts in a frame of this link type, or -1 */
static long ip_offset(int linktype, const uint8_t *p, size_t n)
{
    switch (linktype) {
    case DLT_EN10MB:
        return ethernet_offset(p, n);
    case DLT_LINUX_SLL: /* 16 bytes, the protocol in the last two */
        return n >= 16 && (p[14] == 0x08 || p[14] == 0x86) ? 16 : -1;
    case DLT_LINUX_SLL2: /* 20 bytes, the protocol in the first two */
        return n >= 20 && (p[0] == 0x08 || p[0] == 0x86) ? 20 : -1;
    case DLT_NULL:
    case DLT_LOOP: /* 4 bytes of address family, whichever byte order: IP says its version */
        return 4;
    case DLT_RAW:
    case DLT_IPV4:
    case DLT_IPV6:
        return 0;
    default:
        return -1;
    }
}

/* the link types ladder reads: what dumpcap and tcpdump write on Linux and BSD */
static int readable(int linktype)
{
    static const int known[] = {DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_NULL,
                                DLT_LOOP,   DLT_RAW,       DLT_IPV4,       DLT_IPV6};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (known[i] == linktype)
            return 1;
    return 0;
}

/* A packet's time in nanoseconds since 1970. Opened with nanosecond precision, tv_usec holds
 * nanoseconds. A damaged capture can say any time at all: held from 1970 to 2106 (2^32 s),
 * so that times, the differences between them and those of two differences never overflow. */
static int64_t ts_ns(const struct pcap_pkthdr *h)
{
    int64_t sec = h->ts.tv_sec < 0 ? 0 : h->ts.tv_sec > UINT32_MAX ? UINT32_MAX : h->ts.tv_sec;
    int64_t ns = h->ts.tv_usec < 0 ? 0 : h->ts.tv_usec > 999999999 ? 999999999 : h->ts.tv_usec;

    return sec * 1000000000 + ns;
}

/* one frame: decode it and add it to the exchange when it is something to draw */
static void take(struct ladder_exchange *ex, int linktype, const struct pcap_pkthdr *h,
                 const uint8_t *data, int64_t t0)
{
    struct ladder_pkt pkt;
    long off = ip_offset(linktype, data, h->caplen);

    if (off < 0 || (size_t)off >= h->caplen)
        return;
    memset(&pkt, 0, sizeof pkt);
    pkt.frame = ex->frames;
    pkt.time_ns = ts_ns(h) - t0;
    if (ladder_decode_ip(data + off, h->caplen - (size_t)off, &pkt) == 0)
        ladder_exchange_add(ex, &pkt);
}

/* every packet of the exchange's capture, streamed: memory holds one packet at a time */
static int read_all(struct ladder_exchange *ex, pcap_t *pc)
{
    int linktype = pcap_datalink(pc);
    struct pcap_pkthdr *h;
    const u_char *data;
    int64_t t0 = 0;
    int rc;

    while ((rc = pcap_next_ex(pc, &h, &data)) == 1) {
        if (ex->frames++ == 0)
            t0 = ts_ns(h);
        take(ex, linktype, h, data, t0);
    }
    if (rc == PCAP_ERROR)
        snprintf(ex->cut, sizeof ex->cut, "%s", pcap_geterr(pc));
    return 0;
}

/* something to draw: a TCP or UDP packet (of the one protocol, with --apart), or -1 with what
 * there was instead */
static int enough(const struct ladder_exchange *ex, struct ladder_error *err)
{
    unsigned long long frames = ex->frames;
    const char *what = ex->only < 0 ? "TCP or UDP" : ex->only == LADDER_TCP ? "TCP" : "UDP";

    if (ex->tcp + ex->udp > 0)
        return 0;
    if (frames == 0 && ex->cut[0])
        snprintf(err->msg, sizeof err->msg, "the capture ends inside its first packet (%s)",
                 ex->cut);
    else if (frames == 0)
        snprintf(err->msg, sizeof err->msg, "the capture holds no packets");
    else if (ex->port)
        snprintf(err->msg, sizeof err->msg, "no %s packet on port %d among %llu", what, ex->port,
                 frames);
    else
        snprintf(err->msg, sizeof err->msg, "no %s packet among %llu%s%s", what, frames,
                 ex->cut[0] ? ", then the capture is cut short: " : "", ex->cut);
    return -1;
}

/* Read a capture from file (pcap or pcapng), which this closes; -1 with err set when there is
 * nothing to draw. */
int ladder_read_file(struct ladder_exchange *ex, FILE *file, struct ladder_error *err)
{
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    /* pcap_close closes the file too, from here on */
    pcap_t *pc = pcap_fopen_offline_with_tstamp_precision(file, PCAP_TSTAMP_PRECISION_NANO, ebuf);

    if (pc == NULL) {
        fclose(file);
        snprintf(err->msg, sizeof err->msg, "not a pcap or pcapng capture: %s", ebuf);
        return -1;
    }
    int linktype = pcap_datalink(pc);
    if (!readable(linktype)) {
        const char *name = pcap_datalink_val_to_name(linktype);
        snprintf(err->msg, sizeof err->msg,
                 "link type %d (%s) is not one ladder reads (Ethernet, Linux cooked, raw IP, "
                 "loopback)",
                 linktype, name ? name : "unknown");
        pcap_close(pc);
        return -1;
    }
    read_all(ex, pc);
    pcap_close(pc);
    return enough(ex, err);
}

/* Read the exchange's capture (pcap or pcapng); -1 with err set when there is nothing to draw. */
int ladder_read(struct ladder_exchange *ex, struct ladder_error *err)
{
    FILE *file = fopen(ex->path, "rb");
    struct stat st;

    if (file == NULL) {
        snprintf(err->msg, sizeof err->msg, "cannot open it: %s", strerror(errno));
        return -1;
    }
    if (fstat(fileno(file), &st) == 0 && st.st_size == 0) {
        fclose(file);
        snprintf(err->msg, sizeof err->msg, "the file is empty, not a capture");
        return -1;
    }
    return ladder_read_file(ex, file, err);
}
