/* text.c - the ladder for a terminal: a line per packet, arrows drawn in ASCII. */
#include "ladder.h"

#include <arpa/inet.h>
#include <string.h>

enum {
    WIDE = 48,             /* the arrow between two hosts, one capture */
    NARROW = 44,           /* the same, two captures side by side */
    PAUSE_NS = 1000000000, /* a silence this long gets a line of its own */
};

struct text {
    FILE *out;
    struct ladder_exchange *const *ex;
    int count;
    int width;
    long hosts[2]; /* the flow whose hosts each half's header names, -1 if none */
};

/* the arrow itself: "--LABEL ---->" or "<---- LABEL--", drawn with the arrow's own line */
static void arrow_line(const struct ladder_arrow *a, int width, char *buf, size_t size)
{
    char label[128];
    char line = a->pkt.proto == LADDER_ICMP        ? '~'
                : a->unseen                        ? 'x'
                : a->mark == LADDER_RETRANSMISSION ? '='
                : a->mark == LADDER_KEEPALIVE      ? '.'
                                                   : '-';
    ladder_label(a, label, sizeof label);
    size_t len = strlen(label);
    size_t total = len + 4 > (size_t)width ? len + 4 : (size_t)width;

    if (total >= size)
        total = size - 1;
    if (len + 4 > total)
        len = total - 4;
    memset(buf, line, total);
    buf[total] = '\0';
    if (a->to_left) { /* "<" fill " " label "--" */
        buf[0] = '<';
        buf[total - 3 - len] = ' ';
        memcpy(buf + total - 2 - len, label, len);
    } else { /* "--" label " " fill ">" */
        memcpy(buf + 2, label, len);
        buf[2 + len] = ' ';
        buf[total - 1] = '>';
    }
}

static void port(const struct ladder_endpoint *e, char *buf, size_t size)
{
    if (e->port)
        snprintf(buf, size, "%u", e->port);
    else
        snprintf(buf, size, "%s", "");
}

/* one capture's half of a line: frame, ports at the lifelines, the arrow between them */
static void half(struct text *t, int side, const struct ladder_arrow *a)
{
    char lport[8] = "", rport[8] = "", line[256];

    if (a == NULL) {
        fprintf(t->out, "%6s %5s |%*s| %-5s", "", "", t->width, "", "");
        return;
    }
    const struct ladder_flow *f = &t->ex[side]->flows[a->flow];
    port(&f->left, lport, sizeof lport);
    port(&f->right, rport, sizeof rport);
    arrow_line(a, t->width, line, sizeof line);
    fprintf(t->out, "%6llu %5s |%s| %-5s", (unsigned long long)a->pkt.frame, lport, line, rport);
}

/* the hosts over one half's lifelines, the left one at its line, the right one at its */
static void hosts_half(struct text *t, int side)
{
    char left[INET6_ADDRSTRLEN] = "", right[INET6_ADDRSTRLEN] = "";
    if (t->hosts[side] >= 0) {
        ladder_label_addr(&t->ex[side]->flows[t->hosts[side]].left, left, sizeof left);
        ladder_label_addr(&t->ex[side]->flows[t->hosts[side]].right, right, sizeof right);
    }
    fprintf(t->out, "%6s %5s %-*s%*s %-5s", side ? "" : "frame", "port", t->width / 2 + 1, left,
            t->width / 2 + 1, right, "port");
}

static void hosts_line(struct text *t)
{
    fprintf(t->out, "%10s ", "time");
    for (int i = 0; i < t->count; i++) {
        if (i)
            fputs("  ", t->out);
        hosts_half(t, i);
    }
    fputc('\n', t->out);
}

static void row(struct text *t, int side, const struct ladder_arrow *a)
{
    char text[128];
    const struct ladder_flow *f = &t->ex[side]->flows[a->flow];

    /* new hosts (another client, another server): name them again */
    if (!ladder_same_hosts(&t->ex[side]->flows[t->hosts[side]], f)) {
        t->hosts[side] = a->flow;
        hosts_line(t);
    }
    fprintf(t->out, "%10.6f ", (double)a->pkt.time_ns / 1e9);
    for (int i = 0; i < t->count; i++) {
        if (i)
            fputs("  ", t->out);
        half(t, i, i == side ? a : NULL);
    }
    ladder_label_text(a, text, sizeof text);
    fprintf(t->out, "%s%s\n", text[0] ? "  " : "", text);
}

/* the title: which capture is which, and how much of it is drawn */
static void title(struct text *t)
{
    char summary[160];
    for (int i = 0; i < t->count; i++) {
        ladder_label_summary(t->ex[i], summary, sizeof summary);
        fprintf(t->out, "%s%s: %s\n", t->count > 1 ? (i ? "right: " : "left: ") : "",
                t->ex[i]->path, summary);
    }
}

/* the end: packets left out, and a capture that ended in the middle of one */
static void ending(struct text *t)
{
    for (int i = 0; i < t->count; i++) {
        const struct ladder_exchange *ex = t->ex[i];
        const char *who = t->count > 1 ? ex->path : "";
        if (ex->more)
            fprintf(t->out, "... %llu more packets%s%s (--max %zu)\n", (unsigned long long)ex->more,
                    *who ? " in " : "", who, ex->max);
        if (ex->cut[0])
            fprintf(t->out,
                    "!!! %s%scapture cut short after frame %llu (%s): the rest is missing\n", who,
                    *who ? ": " : "", (unsigned long long)ex->frames, ex->cut);
    }
}

/* Write the ladder of one capture, or of two side by side, for a terminal. */
int ladder_text_write(FILE *out, struct ladder_exchange *const *ex, int count)
{
    struct text t = {out, ex, count, count > 1 ? NARROW : WIDE, {-1, -1}};
    struct ladder_walk w;
    const struct ladder_arrow *a;
    int64_t last = 0;
    int side;

    title(&t);
    for (int i = 0; i < count; i++)
        t.hosts[i] = ex[i]->narrows ? (long)ex[i]->arrows[0].flow : -1;
    hosts_line(&t);
    ladder_walk_start(&w, ex, count);
    while ((side = ladder_walk_next(&w, &a)) >= 0) {
        if (a->pkt.time_ns - last >= PAUSE_NS)
            fprintf(out, "%10s   (%.3f s later)\n", "", (double)(a->pkt.time_ns - last) / 1e9);
        last = a->pkt.time_ns;
        row(&t, side, a);
    }
    ending(&t);
    return ferror(out) ? -1 : 0;
}
