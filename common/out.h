/* out.h - what both programs print: text for people, one JSON object per line for scripts. */
#ifndef SOCKLAB_OUT_H
#define SOCKLAB_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "proto.h"
#include "tls.h"

/* Set once by main: program name, --json, -v count, -q. Makes stdout line-buffered. */
void net_out_init(const char *prog, bool json, int verbose, bool quiet);
const char *net_out_prog(void);
bool net_out_json(void);
int net_out_verbose(void);
bool net_out_quiet(void);

/* The server's first line: "listening on 127.0.0.1:40123 (tcp)", or "(tcp, discard)" for a
 * server that answers nothing (--discard), "(tcp, TLS, certificate SHA256:...)" for one
 * with --tls (tls not NULL), "(tcp, relay to 127.0.0.1:7008)" for a relay (relay_to not
 * NULL), "(udp, peer of 127.0.0.1:7002)" for a peer (peer_of not NULL), and a warning on
 * stderr when the address is a wildcard. */
void net_out_listening(enum net_proto proto, const struct sockaddr *sa, socklen_t len, bool discard,
                       const struct tls_ctx *tls, const char *relay_to, const char *peer_of);
/* -v: "holding [::1]:PORT" for the socket a default server keeps there (fd -1: none). */
void net_out_held(int fd);
/* A lifecycle event for -v ("accepted", "closed", "first datagram"), about peer. */
/* -v, --tls: the session with peer is secured: "secured ADDR: TLS 1.3, ...", or in JSON the
 * facts as fields (version, cipher, fingerprint, checked or client). */
void net_out_secured(const struct sockaddr *peer, socklen_t len, const struct tls_facts *f);
void net_out_peer(const char *event, const struct sockaddr *peer, socklen_t len,
                  const char *detail);
/* A notice everyone should see (not -q): "truncated datagram from ...". At most 10 a
 * second, and never when stdout would block: the rest are left out and counted. */
void net_out_notice(const char *event, const struct sockaddr *peer, socklen_t len,
                    const char *detail);
/* Once a second: one line "suppressed: N more notices" for those left out. */
void net_out_notice_flush(void);
/* -v: "allowing 127.0.0.1/32, ::1/128; any other source is refused" (--allow). */
void net_out_allowing(const char *const *prefixes, unsigned n);
/* -v: "option SO_RCVBUF 4096: the kernel grants 8192", once per option. */
void net_out_sockopt(const char *name, long requested, long granted);
/* "tcp-echo: warning: ..." on stderr. */
void net_out_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* SIGUSR1 in a client sending messages (-m, stdin): bytes each way so far, on one line. */
void net_out_transfer(unsigned long long sent, unsigned long long received, double ms);

#endif
