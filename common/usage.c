/* usage.c - the --help text, with every default taken from its constant. */
#include "opt.h"

#include <stdio.h>

#include "datagram.h"
#include "probe.h"

static void usage_both(FILE *fp)
{
    fprintf(fp,
            "Options for both roles:\n"
            "  -p, --port PORT       port (default %d; server: 0 = any free port)\n"
            "  -b, --bind ADDR       server: address to listen on (default %s);\n"
            "                        client: local address to send from\n"
            "  -4, -6                use IPv4 / IPv6 only\n"
            "  -v, --verbose         lifecycle events (listening, peers, closed)\n"
            "  -vv, --trace          every socket call and what it put on the wire (stderr)\n"
            "      --trace-time      trace with milliseconds since start\n"
            "      --json            one JSON object per line\n"
            "      --nagle           TCP: leave Nagle's algorithm on (by default every\n"
            "                        connection sets TCP_NODELAY); --nodelay says the default\n"
            "      --rcvbuf SIZE     receive buffer (SO_RCVBUF), bytes or with k, M (64k);\n"
            "                        Linux grants twice the request\n"
            "      --sndbuf SIZE     send buffer (SO_SNDBUF), as --rcvbuf\n"
            "      --linger S        TCP: SO_LINGER; close() waits S seconds for the data to\n"
            "                        be acknowledged; 0: close sends RST instead of FIN\n"
            "      --keepalive S     TCP keepalive probes after S seconds of silence\n"
            "                        (server default %d; client default off; 0: off)\n"
            "      --keepalive-interval S  seconds between probes (default %d, or S if less)\n"
            "      --keepalive-count N     unanswered probes before closing (default %d)\n"
            "      --ttl N           IP TTL / IPv6 hop limit of every packet (1-255)\n"
            "      --tos N           IP TOS / IPv6 traffic class byte (0-255): DSCP << 2, so\n"
            "                        184 is DSCP 46 (EF)\n"
            "      --dontfrag        UDP: DF on every datagram; too big for the path: EMSGSIZE\n"
            "      --congestion ALGO TCP: cubic, reno, bbr ... (TCP_CONGESTION)\n"
            "  -q, --quiet           only the summary and errors\n"
            "\n",
            NET_DEFAULT_PORT, NET_DEFAULT_BIND_V4, NET_DEFAULT_KEEPALIVE,
            NET_DEFAULT_KEEPALIVE_INTERVAL, NET_DEFAULT_KEEPALIVE_COUNT);
}

static void usage_server(enum net_proto proto, FILE *fp)
{
    fprintf(fp,
            "Server options:\n"
            "      --model MODEL     iterative, fork, thread, poll, epoll, uring\n"
            "                        (default %s)\n"
            "      --once            serve one %s, then exit\n"
            "      --greeting TEXT   send TEXT when a client connects (TCP only)\n"
            "      --reply TEXT      answer every message with TEXT instead of echoing\n"
            "      --discard         read and count every message, answer none (RFC 863)\n"
            "      --recv-size N     bytes per receive call (default %zu%s)\n"
            "      --max-clients N   at most N clients at once, the rest wait in the listen\n"
            "                        queue (fork, thread: default %d; 0: no limit)\n"
            "      --idle-timeout S  close a client that sends less than --min-bytes in S\n"
            "                        seconds (default %d; 0: never)\n"
            "      --min-bytes N     bytes a client must send per --idle-timeout (default %d)\n"
            "      --reuseaddr       SO_REUSEADDR (UDP: two servers may bind one address;\n"
            "                        tcp-echo always sets it)\n"
            "      --reuseport       SO_REUSEPORT: servers that all set it share the port\n"
            "      --rate-limit N    answer at most N datagrams per second per source (UDP)\n"
            "      --loop-limit N    answer at most N repeated datagrams in a row per source\n"
            "                        (UDP; default %d, 0: no limit)\n"
            "      --allow CIDR      serve only sources in CIDR (10.0.0.0/8, ::1), repeatable\n"
            "                        up to %d; TCP resets others at once, UDP drops theirs\n"
            "\n",
            net_opt_model_name(net_opt_default_model(proto)),
            proto == NET_TCP ? "client" : "datagram", net_opt_default_recv_size(proto),
            proto == NET_TCP ? ", --discard " NET_QUOTE(NET_DEFAULT_TCP_DISCARD_RECV_SIZE) : "",
            NET_DEFAULT_MAX_WORKERS, NET_DEFAULT_IDLE_TIMEOUT, NET_DEFAULT_MIN_BYTES,
            NET_DEFAULT_LOOP_LIMIT, NET_ALLOW_MAX);
}

/* A UDP relay's table of mappings: what --max-clients and --idle-timeout mean for it. */
static const char udp_relay_table_help[] =
    "      --max-clients N   sources relayed at once (default " NET_QUOTE(
        NET_DEFAULT_RELAY_MAPPINGS) "); when full, the one\n"
                                    "                        heard from least recently makes room\n"
                                    "      --idle-timeout S  a source's socket closes after S "
                                    "seconds unused\n";

static void usage_relay(enum net_proto proto, FILE *fp)
{
    fprintf(fp,
            "Relay options (and the server's, but none that makes an answer of its own):\n"
            "      --to HOST[:PORT]  the server to relay to (port default %d): %s\n"
            "%s"
            "\n",
            NET_DEFAULT_PORT,
            proto == NET_TCP ? "a connection\n"
                               "                        to it for each client, opened and "
                               "closed together"
                             : "a socket\n"
                               "                        to it for each client source, kept "
                               "while in use",
            proto == NET_TCP ? "" : udp_relay_table_help);
}

static void usage_peer(enum net_proto proto, FILE *fp)
{
    fprintf(fp,
            "Peer options (and -c, -s, -i, -W, --csv as a client's; -s at least %d):\n"
            "      --to HOST[:PORT]  the other peer (port default: this one's -p); each\n"
            "                        probes the other and answers it, %s\n"
            "\n",
            NET_PEER_PROBE_MIN,
            proto == NET_TCP ? "on two connections:\n"
                               "                        the one it opens, and the one the "
                               "other opens"
                             : "all on one socket:\n"
                               "                        each probe carries its sender's id");
}

static void usage_client(enum net_proto proto, FILE *fp)
{
    fprintf(fp,
            "Client options:\n"
            "  -m, --message TEXT    send TEXT once, print the reply, exit\n"
            "                        (without -m or -c: send each line of stdin, print echoes)\n"
            "  -c, --count N         send N probes (0: until Ctrl-C)\n"
            "  -s, --size BYTES      probe size (default %d)\n"
            "  -i, --interval S      seconds between probes (default %g)\n"
            "  -W, --timeout S       seconds to wait for a reply (default %g%s)\n"
            "  -P, --parallel N      load mode: N %s, one request in flight each\n"
            "  -t, --time S          load or stream mode duration (stream: default %g)\n"
            "      --csv FILE        one row per probe (stream: per stream per interval)\n"
            "      --sweep MIN..MAX  probe sizes from MIN to MAX, doubling\n"
            "      --stream          send for -t seconds on -P %s without waiting for\n"
            "                        echoes, -s bytes at a time (default %d)\n"
            "      --rate RATE       stream: bits per second, 500k, 10M, 1G (default %s)\n"
            "      --every S         stream: seconds between interval lines (default %g)\n"
            "      --one-way         stream: the server discards (server --discard)\n"
            "      --connect-each    a new connection (and --tls session) for every probe:\n"
            "                        connect, handshake and echo timed apart\n"
            "\n",
            NET_DEFAULT_SIZE, NET_DEFAULT_INTERVAL, NET_DEFAULT_TIMEOUT,
            proto == NET_TCP ? "; -m: until the FIN" : "",
            proto == NET_TCP ? "connections" : "sockets", NET_DEFAULT_STREAM_SECONDS,
            proto == NET_TCP ? "connections" : "sockets",
            proto == NET_TCP ? NET_DEFAULT_TCP_STREAM_SIZE : NET_DEFAULT_UDP_STREAM_SIZE,
            proto == NET_TCP ? "0, as fast as TCP goes" : "1M", NET_DEFAULT_EVERY);
}

static void usage_tls(enum net_proto proto, FILE *fp)
{
    fprintf(fp,
            "%s options:\n"
            "      --tls             encrypt with %s; the server proves who it\n"
            "                        is with a certificate, which the client checks\n"
            "      --cert FILE       server: its certificate (PEM); without it, a self-signed\n"
            "                        one made at start, its SHA-256 on the listening line\n"
            "      --key FILE        server: the certificate's key (default: in --cert's file)\n"
            "      --client-ca FILE  server: serve only clients with a certificate FILE signed\n"
            "      --fingerprint SHA256  client: believe the server with this certificate\n"
            "      --ca FILE         client: believe a server FILE signed, for the name asked\n"
            "      --insecure        client: believe any server (anyone could pose as it)\n"
            "      --client-cert FILE  client: our certificate, for a server's --client-ca\n"
            "      --client-key FILE   client: its key (default: in --client-cert's file)\n"
            "      --resume          client, --connect-each: offer the last session again\n"
            "\n",
            proto == NET_TCP ? "TLS" : "DTLS", proto == NET_TCP ? "TLS 1.3 (or 1.2)" : "DTLS 1.2");
}

void net_opt_usage(enum net_proto proto, FILE *fp)
{
    const char *p = proto == NET_TCP ? "tcp-echo" : "udp-echo";

    fprintf(fp,
            "usage: %s server [options]\n"
            "       %s client [options] [HOST[:PORT]]\n"
            "       %s relay --to HOST[:PORT] [options]\n"
            "       %s peer --to HOST[:PORT] [options]\n"
            "       %s --help | --version\n"
            "\n"
            "An echo server and client over %s, twin of %s.\n"
            "\n",
            p, p, p, p, p,
            proto == NET_TCP ? "TCP (a byte stream over a connection)"
                             : "UDP (single datagrams, no connection)",
            proto == NET_TCP ? "udp-echo" : "tcp-echo");
    usage_both(fp);
    usage_server(proto, fp);
    usage_client(proto, fp);
    usage_relay(proto, fp);
    usage_peer(proto, fp);
    usage_tls(proto, fp);
    fprintf(fp, "Other options:\n"
                "  -h, --help            this text\n"
                "  -V, --version         the version\n"
                "\n"
                "Exit status: 0 success, 1 network or runtime failure, 2 usage error.\n");
}
