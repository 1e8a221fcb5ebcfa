/* prog.c - the one place where an error becomes a message and an exit status. */
#include "prog.h"

#include <errno.h>
#include <stdio.h>

#include "signals.h"
#include "sock.h"
#include "trace.h"
#include "wait.h"

#ifndef SOCKLAB_VERSION
#define SOCKLAB_VERSION "unknown"
#endif

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

static int print_error(const struct net_program *prog, const struct net_error *err)
{
    char line[512];

    fprintf(stderr, "%s: %s\n", prog->name, net_err_format(err, line, sizeof line));
    return err->kind == NET_ERR_USAGE ? EXIT_USAGE : EXIT_RUNTIME;
}

int net_prog_main(const struct net_program *prog, int argc, char **argv)
{
    struct net_options opt;
    struct net_error err = {0};
    int rc;

    if (net_opt_parse(prog->proto, argc, argv, &opt, &err) < 0)
        return print_error(prog, &err);
    if (opt.role == NET_ROLE_HELP) {
        net_opt_usage(prog->proto, stdout);
        return EXIT_OK;
    }
    if (opt.role == NET_ROLE_VERSION) {
        printf("%s (socklab) %s\n", prog->name, SOCKLAB_VERSION);
        return EXIT_OK;
    }
    for (int i = 0; i < opt.nnotes; i++)
        fprintf(stderr, "%s: %s\n", prog->name, opt.notes[i]);

    net_out_init(prog->name, opt.json, opt.verbose, opt.quiet);
    net_trace_init(opt.trace, opt.json, opt.trace_time);
    if (net_signal_install() < 0) {
        net_err_errno(&err, errno, "cannot install signal handlers");
        return print_error(prog, &err);
    }

    rc = opt.role == NET_ROLE_SERVER  ? prog->server(&opt, &err)
         : opt.role == NET_ROLE_RELAY ? prog->relay(&opt, &err)
         : opt.role == NET_ROLE_PEER  ? prog->peer(&opt, &err)
                                      : prog->client(&opt, &err);
    if (rc < 0)
        return print_error(prog, &err);
    /* output that never arrived (a full disk, a closed pipe) is a failure, not a success */
    if (fflush(stdout) != 0) {
        net_err_errno(&err, errno, "cannot write to standard output");
        return print_error(prog, &err);
    }
    /* a line-buffered write failed earlier, and its errno is long gone; after Ctrl-C that
     * is only the write the signal cut short (a reader that stopped reading) */
    if (ferror(stdout) && !net_signal_stopping()) {
        net_err_words(&err, NET_ERR_OUTPUT,
                      "some lines were lost (a full disk, or a reader "
                      "that went away)",
                      "cannot write to standard output");
        return print_error(prog, &err);
    }
    return rc == 0 ? EXIT_OK : EXIT_RUNTIME;
}
