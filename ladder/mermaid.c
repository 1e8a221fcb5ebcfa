/* mermaid.c - the ladder as a Mermaid sequenceDiagram, for Markdown pages. */
#include "ladder.h"

#include <arpa/inet.h>
#include <string.h>

/* participants: A (left) and B (right) for the first capture, C and D for the second */
static const char *const names[2][2] = {{"A", "B"}, {"C", "D"}};

/* Mermaid reads ";" as the end of a statement and "#...;" as a character code: keep the
 * payload's text to characters that mean nothing to it */
static void plain(char *s)
{
    for (; *s; s++)
        if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') && !(*s >= '0' && *s <= '9') &&
            strchr(" .,:_-+=/()[]!?'\"*@\\", *s) == NULL)
            *s = '.';
}

static void participants(FILE *out, struct ladder_exchange *const *ex, int count)
{
    char left[INET6_ADDRSTRLEN], right[INET6_ADDRSTRLEN];

    for (int i = 0; i < count; i++) {
        const struct ladder_flow *f = &ex[i]->flows[ex[i]->arrows[0].flow];
        ladder_label_addr(&f->left, left, sizeof left);
        ladder_label_addr(&f->right, right, sizeof right);
        if (count > 1)
            fprintf(out, "    box %s\n", ladder_label_proto(ex[i]));
        /* the same address on both sides (loopback) still makes two participants */
        fprintf(out, "    participant %s as %s (first to speak)\n", names[i][0], left);
        fprintf(out, "    participant %s as %s\n", names[i][1], right);
        if (count > 1)
            fprintf(out, "    end\n");
    }
}

static void message(FILE *out, int side, const struct ladder_exchange *ex,
                    const struct ladder_arrow *a)
{
    char label[128], text[128], from[64], to[64];
    const struct ladder_flow *f = &ex->flows[a->flow];
    const char *arrow = a->pkt.proto == LADDER_ICMP        ? "-->>"
                        : a->unseen                        ? "-x"
                        : a->mark == LADDER_RETRANSMISSION ? "-)"
                                                           : "->>";
    ladder_label(a, label, sizeof label);
    ladder_label_text(a, text, sizeof text);
    plain(label);
    plain(text);
    ladder_label_endpoint(a->to_left ? &f->right : &f->left, from, sizeof from);
    ladder_label_endpoint(a->to_left ? &f->left : &f->right, to, sizeof to);
    plain(from);
    plain(to);
    fprintf(out, "    %s%s%s: %llu at %.6f s, %s to %s, %s%s%s\n", names[side][a->to_left ? 1 : 0],
            arrow, names[side][a->to_left ? 0 : 1], (unsigned long long)a->pkt.frame,
            (double)a->pkt.time_ns / 1e9, from, to, label, text[0] ? " " : "", text);
}

static void ending(FILE *out, struct ladder_exchange *const *ex, int count)
{
    for (int i = 0; i < count; i++) {
        if (ex[i]->more)
            fprintf(out, "    Note over %s,%s: ... %llu more packets\n", names[i][0], names[i][1],
                    (unsigned long long)ex[i]->more);
        if (ex[i]->cut[0])
            fprintf(out, "    Note over %s,%s: the capture ends in the middle of a packet\n",
                    names[i][0], names[i][1]);
    }
}

/* Write a sequenceDiagram: one message per packet, in time order across the captures. */
int ladder_mermaid_write(FILE *out, struct ladder_exchange *const *ex, int count)
{
    struct ladder_walk w;
    const struct ladder_arrow *a;
    long hosts[2] = {-1, -1};
    int side;

    fprintf(out, "sequenceDiagram\n");
    participants(out, ex, count);
    ladder_walk_start(&w, ex, count);
    while ((side = ladder_walk_next(&w, &a)) >= 0) {
        const struct ladder_flow *f = &ex[side]->flows[a->flow];
        /* other hosts than the participants' names: say which */
        if (hosts[side] >= 0 && !ladder_same_hosts(&ex[side]->flows[hosts[side]], f)) {
            char left[INET6_ADDRSTRLEN], right[INET6_ADDRSTRLEN];
            ladder_label_addr(&f->left, left, sizeof left);
            ladder_label_addr(&f->right, right, sizeof right);
            plain(left);
            plain(right);
            fprintf(out, "    Note over %s,%s: now %s and %s\n", names[side][0], names[side][1],
                    left, right);
        }
        hosts[side] = a->flow;
        message(out, side, ex[side], a);
    }
    ending(out, ex, count);
    return ferror(out) ? -1 : 0;
}
