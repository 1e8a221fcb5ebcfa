/* main.c - udp-echo: the UDP twin of tcp-echo. */
#include "prog.h"
#include "udp.h"

static const struct net_program udp_echo = {
    .proto = NET_UDP,
    .name = "udp-echo",
    .server = udp_server_main,
    .client = udp_client_main,
    .relay = udp_relay_main,
    .peer = udp_peer_main,
};

int main(int argc, char **argv)
{
    return net_prog_main(&udp_echo, argc, argv);
}
