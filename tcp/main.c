/* main.c - tcp-echo: the TCP twin of udp-echo. */
#include "prog.h"
#include "tcp.h"

static const struct net_program tcp_echo = {
    .proto = NET_TCP,
    .name = "tcp-echo",
    .server = tcp_server_main,
    .client = tcp_client_main,
    .relay = tcp_relay_main,
    .peer = tcp_peer_main,
};

int main(int argc, char **argv)
{
    return net_prog_main(&tcp_echo, argc, argv);
}
