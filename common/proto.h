/* proto.h - which protocol a program speaks: the one thing the twins differ by. */
#ifndef SOCKLAB_PROTO_H
#define SOCKLAB_PROTO_H

enum net_proto { NET_TCP, NET_UDP };

/* "tcp" or "udp". */
static inline const char *net_proto_name(enum net_proto proto)
{
    return proto == NET_TCP ? "tcp" : "udp";
}

#endif
