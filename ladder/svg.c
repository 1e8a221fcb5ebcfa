/* svg.c - the ladder as a self-contained SVG drawing, one time axis for every capture. */
#include "ladder.h"

#include <arpa/inet.h>
#include <math.h>
#include <string.h>

enum {
    TIME_W = 90,    /* the time column, left of every capture */
    HALF_W = 560,   /* one capture: two lifelines and the arrows between them */
    LEFT_X = 70,    /* the left lifeline, from the start of its half */
    RIGHT_X = 490,  /* the right one */
    TOP = 70,       /* title and host names above the first arrow */
    ROW = 34,       /* from one arrow to the next */
    HOSTS_ROW = 22, /* a line naming other hosts, when the hosts change */
};

/* where the drawing is: the next arrow's height, and the hosts each half names */
struct svg {
    FILE *out; /* NULL while only measuring */
    struct ladder_exchange *const *ex;
    int count;
    double y;
    long hosts[2];
};

/* Write s with the five characters XML gives a meaning to written as entities. */
void ladder_xml_puts(FILE *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", out);
            break;
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        case '\'':
            fputs("&#39;", out);
            break;
        default:
            fputc(*s, out);
        }
    }
}

/* the same time, the same height, whichever capture: a pause adds room as its logarithm
 * grows, so microseconds and seconds both stay readable */
static double pause_room(int64_t gap_ns)
{
    double ms = (double)gap_ns / 1e6;
    if (ms < 1)
        return 0;
    double room = 8 + 10 * log10(ms);
    return room < 60 ? room : 60;
}

static const char *kind(const struct ladder_arrow *a)
{
    if (a->pkt.proto == LADDER_ICMP)
        return "icmp";
    if (a->unseen)
        return "lost";
    if (a->mark == LADDER_RETRANSMISSION)
        return "rexmit";
    return a->pkt.proto == LADDER_TCP ? "tcp" : "udp";
}

static void attr(FILE *out, const char *name, const char *value)
{
    fprintf(out, " %s=\"", name);
    ladder_xml_puts(out, value);
    fputc('"', out);
}

static void text_at(FILE *out, int x, int y, const char *class, const char *text)
{
    fprintf(out, " <text x=\"%d\" y=\"%d\" class=\"%s\">", x, y, class);
    ladder_xml_puts(out, text);
    fputs("</text>\n", out);
}

/* one arrow: a group with the packet's facts as data attributes, for a page to show */
static void arrow(struct svg *s, int side, const struct ladder_arrow *a)
{
    const struct ladder_flow *f = &s->ex[side]->flows[a->flow];
    char label[128], text[128], from[64], to[64], num[32];
    int x0 = TIME_W + side * HALF_W, xl = x0 + LEFT_X, xr = x0 + RIGHT_X;
    int y = (int)s->y;

    ladder_label(a, label, sizeof label);
    ladder_label_text(a, text, sizeof text);
    ladder_label_endpoint(a->to_left ? &f->right : &f->left, from, sizeof from);
    ladder_label_endpoint(a->to_left ? &f->left : &f->right, to, sizeof to);
    static const char *const protos[] = {"tcp", "udp", "icmp"};
    /* the id names the packet in a link: page.html#c0-f4 is frame 4 of the left capture */
    fprintf(s->out,
            "<g class=\"pkt %s\" id=\"c%d-f%llu\" data-capture=\"%d\" data-frame=\"%llu\" "
            "data-proto=\"%s\"",
            kind(a), side, (unsigned long long)a->pkt.frame, side, (unsigned long long)a->pkt.frame,
            protos[a->pkt.proto]);
    snprintf(num, sizeof num, "%.6f", (double)a->pkt.time_ns / 1e9);
    attr(s->out, "data-time", num);
    attr(s->out, "data-from", from);
    attr(s->out, "data-to", to);
    attr(s->out, "data-label", label);
    attr(s->out, "data-text", text);
    fprintf(s->out, "><title>%llu at %s s, %s to %s: ", (unsigned long long)a->pkt.frame, num, from,
            to);
    ladder_xml_puts(s->out, label);
    fputc(' ', s->out);
    ladder_xml_puts(s->out, text);
    fprintf(s->out,
            "</title>\n <line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"%s\" "
            "marker-end=\"url(#head)\"/>\n",
            a->to_left ? xr : xl, y, a->to_left ? xl : xr, y, kind(a));
    text_at(s->out, (xl + xr) / 2, y - 5, "label", label);
    if (text[0])
        text_at(s->out, (xl + xr) / 2, y + 13, "payload", text);
    text_at(s->out, TIME_W - 6, y + 4, "time", num);
    fputs("</g>\n", s->out);
}

/* a line naming the hosts of one half: at the top, and again when they change */
static void hosts(struct svg *s, int side, const struct ladder_flow *f, int y)
{
    char left[INET6_ADDRSTRLEN], right[INET6_ADDRSTRLEN];
    int x0 = TIME_W + side * HALF_W;

    ladder_label_addr(&f->left, left, sizeof left);
    ladder_label_addr(&f->right, right, sizeof right);
    fprintf(s->out, "<text x=\"%d\" y=\"%d\" class=\"host\">%s</text>\n", x0 + LEFT_X, y, left);
    fprintf(s->out, "<text x=\"%d\" y=\"%d\" class=\"host\">%s</text>\n", x0 + RIGHT_X, y, right);
}

/* Walk every arrow in time order, drawing it when s->out is set; the height reached. */
static double layout(struct svg *s)
{
    struct ladder_walk w;
    const struct ladder_arrow *a;
    int64_t last = 0;
    int side;

    s->y = TOP;
    s->hosts[0] = s->hosts[1] = -1;
    ladder_walk_start(&w, s->ex, s->count);
    while ((side = ladder_walk_next(&w, &a)) >= 0) {
        const struct ladder_flow *f = &s->ex[side]->flows[a->flow];
        s->y += pause_room(a->pkt.time_ns - last);
        last = a->pkt.time_ns;
        if (s->hosts[side] >= 0 && !ladder_same_hosts(&s->ex[side]->flows[s->hosts[side]], f)) {
            if (s->out)
                hosts(s, side, f, (int)s->y);
            s->y += HOSTS_ROW;
        }
        s->hosts[side] = a->flow;
        s->y += ROW / 2;
        if (s->out)
            arrow(s, side, a);
        s->y += ROW / 2;
    }
    return s->y;
}

static const char style[] =
    "<style>\n"
    "text { font: 11px monospace; fill: #222; }\n"
    ".title { font: bold 13px sans-serif; } .host { font: bold 12px monospace; "
    "text-anchor: middle; }\n"
    ".label, .payload { text-anchor: middle; } .payload { fill: #777; } .time { text-anchor: "
    "end; fill: #555; }\n"
    ".life { stroke: #999; stroke-width: 1; }\n"
    "line.tcp { stroke: #1f5fa8; } line.udp { stroke: #2e8b57; }\n"
    "line.icmp { stroke: #d2691e; stroke-dasharray: 4 3; } line.rexmit { stroke: #c00; "
    "stroke-dasharray: 8 3; }\n"
    "line.lost { stroke: #c00; stroke-dasharray: 2 4; }\n"
    "line.tcp, line.udp, line.icmp, line.rexmit, line.lost { stroke-width: 1.5; }\n"
    "</style>\n"
    "<defs><marker id=\"head\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" "
    "markerHeight=\"8\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" "
    "fill=\"#444\"/></marker></defs>\n";

/* each capture's title, host names and lifelines */
static void frame(struct svg *s, double height)
{
    char summary[160];
    for (int i = 0; i < s->count; i++) {
        const struct ladder_exchange *ex = s->ex[i];
        int x0 = TIME_W + i * HALF_W;
        ladder_label_summary(ex, summary, sizeof summary);
        fprintf(s->out, "<text x=\"%d\" y=\"20\" class=\"title\">%s: ", x0 + 10,
                ladder_label_proto(ex));
        ladder_xml_puts(s->out, ex->path);
        fprintf(s->out, "</text>\n<text x=\"%d\" y=\"36\">%s</text>\n", x0 + 10, summary);
        hosts(s, i, &ex->flows[ex->arrows[0].flow], TOP - 14);
        for (int x = LEFT_X; x <= RIGHT_X; x += RIGHT_X - LEFT_X)
            fprintf(s->out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%.0f\" class=\"life\"/>\n",
                    x0 + x, TOP - 8, x0 + x, height);
        if (ex->more)
            fprintf(s->out, "<text x=\"%d\" y=\"%.0f\">... %llu more packets</text>\n", x0 + 10,
                    height + 14, (unsigned long long)ex->more);
        if (ex->cut[0])
            fprintf(s->out,
                    "<text x=\"%d\" y=\"%.0f\">the capture ends in the middle of a "
                    "packet</text>\n",
                    x0 + 10, height + 28);
    }
}

/* The drawing alone, an <svg> element: what the HTML page holds inline. */
int ladder_svg_body(FILE *out, struct ladder_exchange *const *ex, int count)
{
    struct svg s = {NULL, ex, count, 0, {-1, -1}};
    double height = layout(&s);
    int width = TIME_W + count * HALF_W;

    s.out = out;
    fprintf(out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%.0f\" "
            "viewBox=\"0 0 %d %.0f\">\n%s",
            width, height + 40, width, height + 40, style);
    frame(&s, height);
    layout(&s);
    fputs("</svg>\n", out);
    return ferror(out) ? -1 : 0;
}

/* Write a standalone SVG file. */
int ladder_svg_write(FILE *out, struct ladder_exchange *const *ex, int count)
{
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
    return ladder_svg_body(out, ex, count);
}
