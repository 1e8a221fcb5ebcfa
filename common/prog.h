/* prog.h - the body of main() that tcp-echo and udp-echo share. */
#ifndef SOCKLAB_PROG_H
#define SOCKLAB_PROG_H

#include "err.h"
#include "opt.h"

/* What makes a program tcp-echo or udp-echo: its protocol and its four roles. Each role
 * returns 0 on success, -1 with err set on failure, or 1 for a failure it already reported
 * (a probe run with losses, say). */
struct net_program {
    enum net_proto proto;
    const char *name;
    int (*server)(const struct net_options *opt, struct net_error *err);
    int (*client)(const struct net_options *opt, struct net_error *err);
    int (*relay)(const struct net_options *opt, struct net_error *err);
    int (*peer)(const struct net_options *opt, struct net_error *err);
};

/* Parse the command line, run the role, print any error; returns the exit status:
 * 0 success, 1 runtime or network failure, 2 usage error. */
int net_prog_main(const struct net_program *prog, int argc, char **argv);

#endif
