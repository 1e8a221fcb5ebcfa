/* main.c - ladder: draw one capture, or a TCP and a UDP one side by side, as a ladder diagram. */
#include "ladder.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#ifndef SOCKLAB_VERSION
#define SOCKLAB_VERSION "unknown"
#endif

enum { EXIT_USAGE = 2, EXIT_CUT = 3 };

static const char usage[] =
    "usage: ladder [--format text|mermaid|svg|html] [--port N] [--max N] CAPTURE [CAPTURE]\n"
    "       ladder --apart [OPTIONS] CAPTURE\n"
    "  Draws the packets of a capture (pcap or pcapng) as a ladder diagram: one arrow per\n"
    "  TCP, UDP or ICMP packet. Two captures (say a TCP and a UDP exchange) are drawn side\n"
    "  by side on one time scale; two of one exchange, taken at its two ends, mark LOST the\n"
    "  packets one end saw and the other did not.\n"
    "  -f, --format F  text (default), mermaid, svg or html\n"
    "  -p, --port N    only packets to or from port N (and ICMP errors about them)\n"
    "  -m, --max N     draw at most N packets of each capture (default 200, at most 100000)\n"
    "  -a, --apart     one capture of both protocols: its TCP packets beside its UDP\n"
    "                  packets, each side timed from its own first packet\n"
    "  -h, --help      this help\n"
    "  -V, --version   ladder's version\n"
    "  Exit status: 0 drawn, 1 nothing to draw (the error says why), 2 usage,\n"
    "  3 drawn, but a capture ends in the middle of a packet.\n";

typedef int (*writer)(FILE *, struct ladder_exchange *const *, int);

static const struct {
    const char *name;
    writer write;
} formats[] = {
    {"text", ladder_text_write},
    {"mermaid", ladder_mermaid_write},
    {"svg", ladder_svg_write},
    {"html", ladder_html_write},
};

struct options {
    writer write;
    int port;
    size_t max;
    bool apart;
};

/* a whole number from lo to hi, or -1 */
static long number(const char *s, long lo, long hi)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    return errno || end == s || *end || v < lo || v > hi ? -1 : v;
}

static int bad(const char *what)
{
    fprintf(stderr, "ladder: %s\n", what);
    return -1;
}

static int parse(int argc, char **argv, struct options *o)
{
    static const struct option longs[] = {{"format", required_argument, NULL, 'f'},
                                          {"port", required_argument, NULL, 'p'},
                                          {"max", required_argument, NULL, 'm'},
                                          {"apart", no_argument, NULL, 'a'},
                                          {"help", no_argument, NULL, 'h'},
                                          {"version", no_argument, NULL, 'V'},
                                          {NULL, 0, NULL, 0}};
    long v;
    int c;

    *o = (struct options){ladder_text_write, 0, LADDER_MAX_DEFAULT, false};
    while ((c = getopt_long(argc, argv, "f:p:m:ahV", longs, NULL)) != -1) {
        if (c == 'h') {
            fputs(usage, stdout);
            exit(0);
        } else if (c == 'V') {
            printf("ladder (socklab) %s\n", SOCKLAB_VERSION);
            exit(0);
        } else if (c == 'a') {
            o->apart = true;
        } else if (c == 'f') {
            o->write = NULL;
            for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
                if (strcmp(optarg, formats[i].name) == 0)
                    o->write = formats[i].write;
            if (o->write == NULL)
                return bad("--format: text, mermaid, svg or html");
        } else if (c == 'p' || c == 'm') {
            v = number(optarg, 1, c == 'p' ? 65535 : LADDER_MAX_LIMIT);
            if (v < 0)
                return bad(c == 'p' ? "--port: a number from 1 to 65535"
                                    : "--max: a number from 1 to 100000");
            if (c == 'p')
                o->port = (int)v;
            else
                o->max = (size_t)v;
        } else {
            return -1;
        }
    }
    if (o->apart && argc - optind != 1)
        return bad("--apart draws one capture (of both protocols)");
    return argc - optind == 1 || argc - optind == 2 ? 0 : -1;
}

/* Read the capture at path into ex (only one protocol of it when only >= 0); -1 after saying
 * why there is nothing to draw. */
static int take_capture(struct ladder_exchange *ex, const char *path, const struct options *o,
                        int only)
{
    struct ladder_error err = {""};

    if (ladder_exchange_init(ex, path, o->max, o->port, &err) == 0) {
        ex->only = only;
        if (ladder_read(ex, &err) == 0)
            return 0;
    }
    if (only >= 0)
        fprintf(stderr, "ladder: %s, %s part: %s\n", path, only == LADDER_TCP ? "TCP" : "UDP",
                err.msg);
    else
        fprintf(stderr, "ladder: %s: %s\n", path, err.msg);
    return -1;
}

int main(int argc, char **argv)
{
    struct ladder_exchange exchanges[2], *ex[2] = {&exchanges[0], &exchanges[1]};
    struct options o;
    int count = 0, status = 0;

    if (parse(argc, argv, &o) != 0) {
        fprintf(stderr, "%.*s", (int)(strchr(usage, '\n') - usage + 1), usage);
        return EXIT_USAGE;
    }
    for (; count < (o.apart ? 2 : argc - optind); count++) {
        const char *path = argv[o.apart ? optind : optind + count];
        int only = !o.apart ? -1 : count == 0 ? LADDER_TCP : LADDER_UDP;

        if (take_capture(ex[count], path, &o, only) != 0) {
            status = EXIT_FAILURE;
            count++;
            goto out_free;
        }
    }
    /* two captures of one exchange, from its two ends: what was lost between them */
    if (count == 2 && !o.apart && ladder_compare(ex[0], ex[1]) != 0) {
        fprintf(stderr, "ladder: out of memory comparing the two captures\n");
        status = EXIT_FAILURE;
        goto out_free;
    }
    if (o.write(stdout, ex, count) != 0 || fflush(stdout) != 0) {
        fprintf(stderr, "ladder: writing the ladder: %s\n", strerror(errno));
        status = EXIT_FAILURE;
        goto out_free;
    }
    for (int i = 0; i < count; i++)
        if (ex[i]->cut[0]) {
            fprintf(stderr, "ladder: %s: cut short after frame %llu (%s): drew what came before\n",
                    ex[i]->path, (unsigned long long)ex[i]->frames, ex[i]->cut);
            status = EXIT_CUT;
        }
out_free:
    for (int i = 0; i < count; i++)
        ladder_exchange_free(ex[i]);
    return status;
}
