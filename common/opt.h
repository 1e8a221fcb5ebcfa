/* opt.h - one command line for both programs: tcp-echo and udp-echo take the same flags. */
#ifndef SOCKLAB_OPT_H
#define SOCKLAB_OPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "allow.h"
#include "err.h"
#include "out.h"
#include "sockopt.h"
#include "tls.h"

#define NET_DEFAULT_PORT 7007
/* A server listens on loopback unless -b names another address. */
#define NET_DEFAULT_BIND_V4 "127.0.0.1"
#define NET_DEFAULT_BIND_V6 "::1"
#define NET_MAX_NOTES 8
/* Server defaults that keep a server left running safe (see README, "Server models"). */
#define NET_DEFAULT_MAX_WORKERS 64 /* fork, thread: processes or threads at once */
#define NET_DEFAULT_IDLE_TIMEOUT 60
#define NET_DEFAULT_MIN_BYTES 64
#define NET_DEFAULT_KEEPALIVE 60
#define NET_DEFAULT_KEEPALIVE_COUNT 3
/* --recv-size over TCP; UDP reads a whole datagram (NET_DATAGRAM_RECV_SIZE, datagram.h). */
#define NET_DEFAULT_TCP_RECV_SIZE 16384
/* --recv-size over TCP with --discard: reads as large as a stream client's writes (iperf3's
 * 128 KiB), so a server that only counts is never what slows the stream down. */
#define NET_DEFAULT_TCP_DISCARD_RECV_SIZE 131072
/* A UDP relay: client sources relayed at once, each with its own upstream socket (the
 * table of mappings a NAT keeps); when it is full, the least recently heard makes room. */
#define NET_DEFAULT_RELAY_MAPPINGS 1000
/* UDP: repeated datagrams in a row one source may have answered (see udp/server.c). */
#define NET_DEFAULT_LOOP_LIMIT 100
/* Client: probe size (-s), seconds between probes (-i), seconds to wait for a reply (-W). */
#define NET_DEFAULT_SIZE 64
#define NET_DEFAULT_INTERVAL 1.0
#define NET_DEFAULT_TIMEOUT 1.0
/* Stream mode: seconds between interval lines; seconds of sending (iperf3's 10); UDP's rate
 * when --rate does not say (bits per second); bytes per message when -s does not say (TCP:
 * one large write, as iperf3's 128 KiB, smaller when paced; UDP: a datagram that fits a
 * 1500-byte frame). */
#define NET_DEFAULT_EVERY 1.0
#define NET_DEFAULT_STREAM_SECONDS 10.0
#define NET_DEFAULT_UDP_RATE 1e6
#define NET_DEFAULT_TCP_STREAM_SIZE 131072
#define NET_DEFAULT_UDP_STREAM_SIZE 1400
/* --tls: seconds a handshake may take, when -W does not say (a server: always) */
#define NET_TLS_HANDSHAKE_TIMEOUT 10.0
/* The most a TLS record holds: a TLS server reads at least this much at a time */
#define NET_TLS_RECORD_MAX 16384

/* A relay is a server to its clients and a client of its upstream (--to): the middle tier.
 * A peer is a server and a client at once, to one other peer (--to). */
enum net_role {
    NET_ROLE_SERVER,
    NET_ROLE_CLIENT,
    NET_ROLE_RELAY,
    NET_ROLE_PEER,
    NET_ROLE_HELP,
    NET_ROLE_VERSION
};

/* Server concurrency models; UDP has only the first. */
enum net_model {
    NET_MODEL_ITERATIVE,
    NET_MODEL_FORK,
    NET_MODEL_THREAD,
    NET_MODEL_POLL,
    NET_MODEL_EPOLL,
    NET_MODEL_URING
};

/* Everything the command line can say, already checked. */
struct net_options {
    enum net_proto proto;
    enum net_role role;

    /* both roles */
    char host[NET_HOSTLEN]; /* client: server to reach; server: -b address to listen on */
    uint16_t port;
    bool port_set;    /* -p given */
    const char *bind; /* -b as given, or NULL */
    enum net_family family;
    int verbose; /* -v: 1, -vv: 2 */
    bool trace;  /* -vv or --trace */
    bool trace_time;
    bool json;
    bool quiet;
    bool nagle;             /* --nagle: Nagle's algorithm left on; else TCP_NODELAY everywhere */
    bool nodelay;           /* --nodelay given: what is the default, said explicitly */
    struct net_sockopts so; /* --rcvbuf, --linger, --keepalive, --ttl ... */
    bool keepalive_set;     /* --keepalive given (a server keeps it on by default) */

    /* server */
    enum net_model model;
    bool once;
    const char *greeting;
    const char *reply;
    bool discard; /* --discard (RFC 863): read and count everything, answer nothing */
    size_t recv_size;
    bool recv_size_set;
    unsigned max_clients; /* 0: no limit */
    bool max_clients_set;
    double idle_timeout;    /* seconds, 0: none */
    size_t min_bytes;       /* bytes a client must send per --idle-timeout to count as active */
    unsigned rate_limit;    /* UDP: datagrams per second per source, 0: no limit */
    unsigned loop_limit;    /* UDP: repeated datagrams in a row answered per source, 0: no limit */
    struct net_allow allow; /* --allow: the sources served (none given: everyone) */

    /* relay and peer */
    const char *to;            /* --to as given, or NULL */
    char to_host[NET_HOSTLEN]; /* its host: the relay's server, or the other peer */
    uint16_t to_port;          /* its port (relay: NET_DEFAULT_PORT, peer: its own -p) */

    /* client */
    const char *message; /* -m, or NULL for stdin mode */
    long count;          /* -c; -1 when not given, 0: until interrupted */
    size_t size;         /* -s */
    bool size_set;
    double interval; /* -i seconds */
    bool interval_set;
    double timeout; /* -W seconds */
    bool timeout_set;
    unsigned parallel; /* -P; 0 when not given */
    double duration;   /* -t seconds, 0 when not given */
    const char *csv;
    size_t sweep_min, sweep_max; /* both 0 when not given */
    bool stream;                 /* --stream: send for -t seconds without waiting */
    double rate;                 /* --rate, bits per second (0: as fast as it goes) */
    bool rate_set;
    double every; /* --every: seconds between a stream run's interval lines */
    bool every_set;
    bool one_way;      /* --one-way: the server discards (--discard); wait for no echo */
    bool connect_each; /* --connect-each: a new connection (and session) for every probe */
    bool resume;       /* --resume: offer the last session again (--tls, --connect-each) */

    /* --tls: TLS over TCP, DTLS over UDP; tls says with which certificates */
    bool tls_on;
    struct tls_config tls;

    /* flags accepted but meaningless for this protocol, each with the reason */
    const char *notes[NET_MAX_NOTES];
    int nnotes;
};

/* Parse argv for proto. Returns 0, or -1 with err (kind NET_ERR_USAGE) saying what is wrong. */
int net_opt_parse(enum net_proto proto, int argc, char **argv, struct net_options *opt,
                  struct net_error *err);

/* Full --help text for proto. */
void net_opt_usage(enum net_proto proto, FILE *fp);

/* The model a server runs when --model does not say, and its name ("epoll"). */
enum net_model net_opt_default_model(enum net_proto proto);
const char *net_opt_model_name(enum net_model model);
/* --tls: the milliseconds a client's handshake may take (-W, or else 10 s). */
int net_opt_handshake_ms(const struct net_options *opt);
/* Bytes per receive call when --recv-size does not say. */
size_t net_opt_default_recv_size(enum net_proto proto);

#endif
