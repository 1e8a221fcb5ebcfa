/* peer.c - what the two peer roles share: the waits around the probe run, the last line. */
#include "peer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"
#include "datagram.h"
#include "json.h"
#include "open.h"
#include "out.h"
#include "signals.h"
#include "sock.h"

uint32_t net_peer_new_id(void)
{
    uint32_t id = 0;

    /* the id only tells two peers' probes apart: any source of variety will do */
    if (getrandom(&id, sizeof id, GRND_NONBLOCK) != (ssize_t)sizeof id)
        id = (uint32_t)getpid() * 2654435761u ^ (uint32_t)time(NULL);
    return id != 0 ? id : 1;
}

static bool is_loopback(const struct sockaddr *sa)
{
    uint32_t v4;

    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (net_addr_mapped_v4(&((const struct sockaddr_in6 *)sa)->sin6_addr, &v4))
        return (v4 >> 24) == 127;
    return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr);
}

int net_peer_open(const struct net_options *opt, int socktype, struct net_upstream_addr *to,
                  struct net_target *t, struct sockaddr_storage *own, socklen_t *ownlen,
                  struct net_error *err)
{
    struct addrinfo *res;
    int fd;

    if (net_addr_resolve(opt->host, opt->port, opt->family, socktype, true, &res, err) < 0)
        return -1;
    fd = net_open_server(res, &opt->so, own, ownlen, NULL, err);
    freeaddrinfo(res);
    if (fd < 0)
        return -1;
    if (net_upstream_resolve(opt, socktype, own, false, to, err) < 0)
        goto fail;
    if (opt->bind == NULL && !is_loopback((const struct sockaddr *)&to->addr)) {
        net_err_words(err, NET_ERR_USAGE,
                      "it is not on loopback, where a peer listens unless told otherwise: "
                      "give -b with this host's address that faces it",
                      "cannot reach %s", to->text);
        goto fail;
    }
    memcpy(&t->peer, &to->addr, to->len);
    t->peerlen = to->len;
    snprintf(t->name, sizeof t->name, "%s", to->text);
    return fd;

fail:
    sock_close(fd);
    return -1;
}

int net_peer_never(const char *other, struct net_error *err)
{
    if (net_signal_stopping())
        return net_err_words(err, NET_ERR_TIMEOUT, "interrupted before it came", "no peer at %s",
                             other);
    return net_err_words(err, NET_ERR_TIMEOUT,
                         "nothing came from it within " NET_QUOTE(NET_PEER_WAIT_S) " s",
                         "no peer at %s", other);
}

int net_peer_wait(const struct net_peer_side *side, double deadline_ms, struct net_error *err)
{
    double next_tick = net_now_ms();

    while (!side->over(side->ctx)) {
        struct pollfd p[NET_PEER_SLOTS + 1];
        double now = net_now_ms(), until = fmin(next_tick, deadline_ms);
        int n, rc;

        if (net_signal_stopping() || now >= deadline_ms)
            return 0;
        if (now >= next_tick) {
            if (side->tick(side->ctx, err) < 0)
                return -1;
            next_tick = now + NET_PEER_RETRY_MS;
            continue;
        }
        n = side->fill(side->ctx, p);
        p[n] = (struct pollfd){.fd = net_signal_fd(), .events = POLLIN};
        rc = poll(p, (nfds_t)n + 1, net_ms_until(until));
        if (rc < 0 && errno != EINTR)
            return net_err_errno(err, errno, "cannot wait for the other peer");
        /* the counters are the probe run's; before and after it there are none to print */
        (void)net_signal_take_usr1();
        if (rc > 0 && side->serve(side->ctx, p, n, err) < 0)
            return -1;
    }
    return 1;
}

static const char *end_text(enum net_peer_end end)
{
    switch (end) {
    case NET_PEER_BYE:
        return "it said bye";
    case NET_PEER_SILENT:
        return "it fell silent";
    case NET_PEER_FIN:
        return "it closed its connection";
    case NET_PEER_RESET:
        return "its connection was reset";
    case NET_PEER_NEVER:
        return "it never came";
    case NET_PEER_INTERRUPTED:
        return "interrupted";
    default:
        return "still running";
    }
}

void net_peer_report(const struct net_options *opt, const char *other, long long probes,
                     unsigned long long bytes, enum net_peer_end end)
{
    if (net_out_json()) {
        struct net_json j;

        net_json_begin(&j);
        net_json_str(&j, "event", "answered");
        net_json_str(&j, "proto", net_proto_name(opt->proto));
        net_json_str(&j, "peer", other);
        if (probes >= 0)
            net_json_int(&j, "probes", probes);
        net_json_int(&j, "bytes", (long long)bytes);
        net_json_str(&j, "end", end_text(end));
        net_json_end(&j, stdout);
        return;
    }
    if (probes >= 0)
        printf("answered %s: %lld probes, %llu bytes; %s\n", other, probes, bytes, end_text(end));
    else
        printf("answered %s: %llu bytes on its connection; %s\n", other, bytes, end_text(end));
}
