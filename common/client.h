/* client.h - the client both programs run: find the server, then send what the user asked.
 *
 * Everything here is the same for TCP and UDP: trying each address of the server in turn,
 * the measuring modes (probe, sweep, load), SIGUSR1 and Ctrl-C. The two ways of sending what
 * the user typed (one -m message, or standard input) are the protocol's own, and each
 * program hands them in as a struct net_client_ops. */
#ifndef SOCKLAB_CLIENT_H
#define SOCKLAB_CLIENT_H

#include <netdb.h>
#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "measure.h"
#include "opt.h"

/* A connected socket, the server it names, and the addresses not tried yet. */
struct net_client {
    const struct net_options *opt;
    struct net_target t;
    struct addrinfo *res, *untried;
    unsigned long long bytes_out, bytes_in; /* -m and stdin: for SIGUSR1's counters */
    double start_ms;
    struct tls_ctx tls; /* --tls: how the server is checked, and who we are */
};

/* What a protocol does with the user's own bytes: send the -m message and print the reply,
 * or move standard input to the server and the echo to standard output. Each returns 0,
 * 1 when some of it was lost, or -1 with err set. */
struct net_client_ops {
    int socktype; /* SOCK_STREAM or SOCK_DGRAM */
    int (*message)(struct net_client *cl, struct net_error *err);
    int (*stdin_mode)(struct net_client *cl, struct net_error *err);
};

/* The whole client: connect, run the mode the options ask for, close. */
int net_client_main(const struct net_options *opt, const struct net_client_ops *ops,
                    struct net_error *err);

/* Close the socket in use and connect to the next address of the server; -1 with err when
 * none is left. UDP moves on this way when an address answers "port unreachable". */
int net_client_next(struct net_client *cl, struct net_error *err);

/* SIGUSR1 while sending the user's bytes: one line of bytes each way so far. */
void net_client_take_usr1(struct net_client *cl);

/* Ctrl-C, as ping takes it: what was measured is already printed, so the run ends with 0
 * when anything came back, or -1 with err saying nothing did. */
int net_client_interrupted(struct net_client *cl, struct net_error *err);

/* The reply to -m, however it arrives (one datagram, or a stream in pieces): text is printed
 * as it comes; --json keeps the first NET_REPLY_KEEP bytes and prints one object at the end. */
#define NET_REPLY_KEEP 65536
struct net_reply {
    char *kept; /* --json only */
    size_t kept_len, total;
    bool newline; /* the text printed so far ends a line (or nothing was printed) */
    double start_ms, rtt_ms;
};

/* Start a reply to a message sent at start_ms; -1 with err when out of memory. */
int net_reply_start(struct net_reply *r, double start_ms, struct net_error *err);
/* Take n more bytes of the reply. */
void net_reply_add(struct net_reply *r, const char *data, size_t n);
/* The reply is over, or cut short: end its line (text), so an error line that follows starts
 * a line of its own, and reaches the terminal first. */
void net_reply_end_line(const struct net_reply *r);
/* The reply is complete: end its line, or print it as one JSON object. */
void net_reply_finish(const struct net_reply *r, const struct net_client *cl);
void net_reply_free(struct net_reply *r);

#endif
