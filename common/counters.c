/* counters.c - what a server counts, added up across workers and printed as its summary. */
#include "counters.h"

#include <stdio.h>

#include "json.h"
#include "out.h"

void net_counters_add(struct net_counters *to, const struct net_counters *from)
{
    to->msgs_in += from->msgs_in;
    to->msgs_out += from->msgs_out;
    to->bytes_in += from->bytes_in;
    to->bytes_out += from->bytes_out;
    to->truncated += from->truncated;
    to->refused += from->refused;
    to->errors += from->errors;
    to->up.opened += from->up.opened;
    to->up.failed += from->up.failed;
    to->up.msgs_out += from->up.msgs_out;
    to->up.msgs_in += from->up.msgs_in;
    to->up.bytes_out += from->up.bytes_out;
    to->up.bytes_in += from->up.bytes_in;
    to->up.expired += from->up.expired;
    to->up.evicted += from->up.evicted;
}

/* A relay's upstream side, as JSON fields or the end of the summary line. */
static void upstream_json(struct net_json *j, enum net_proto proto, const struct net_upstream *u)
{
    net_json_int(j, "upstream_opened", (long long)u->opened);
    net_json_int(j, "upstream_failed", (long long)u->failed);
    net_json_int(j, "upstream_messages_sent", (long long)u->msgs_out);
    net_json_int(j, "upstream_messages_received", (long long)u->msgs_in);
    net_json_int(j, "upstream_bytes_sent", (long long)u->bytes_out);
    net_json_int(j, "upstream_bytes_received", (long long)u->bytes_in);
    if (proto == NET_UDP) {
        net_json_int(j, "upstream_expired", (long long)u->expired);
        net_json_int(j, "upstream_evicted", (long long)u->evicted);
    }
}

static void upstream_text(enum net_proto proto, const struct net_upstream *u)
{
    printf("; upstream: %llu %s, %llu failed, %llu %s sent, %llu received, %llu bytes out, "
           "%llu bytes in",
           u->opened, proto == NET_TCP ? "connections" : "sockets", u->failed, u->msgs_out,
           proto == NET_TCP ? "messages" : "datagrams", u->msgs_in, u->bytes_out, u->bytes_in);
    if (proto == NET_UDP)
        printf(", %llu expired, %llu evicted", u->expired, u->evicted);
}

void net_counters_print(enum net_proto proto, const char *event, const struct net_counters *c)
{
    if (net_out_json()) {
        struct net_json j;

        net_json_begin(&j);
        net_json_str(&j, "event", event);
        net_json_str(&j, "proto", net_proto_name(proto));
        net_json_int(&j, "clients", (long long)c->clients);
        if (c->clients_at_least)
            net_json_bool(&j, "clients_at_least", true);
        net_json_int(&j, "messages_received", (long long)c->msgs_in);
        net_json_int(&j, "messages_sent", (long long)c->msgs_out);
        net_json_int(&j, "bytes_received", (long long)c->bytes_in);
        net_json_int(&j, "bytes_sent", (long long)c->bytes_out);
        net_json_int(&j, "truncated", (long long)c->truncated);
        net_json_int(&j, "refused", (long long)c->refused);
        net_json_int(&j, "errors", (long long)c->errors);
        if (c->relay)
            upstream_json(&j, proto, &c->up);
        net_json_end(&j, stdout);
        return;
    }
    printf("%s: %s%llu %s, %llu %s received, %llu sent, %llu bytes in, %llu bytes out, "
           "%llu truncated, %llu refused, %llu errors",
           event, c->clients_at_least ? "at least " : "", c->clients,
           proto == NET_TCP ? "clients" : "peers", c->msgs_in,
           proto == NET_TCP ? "messages" : "datagrams", c->msgs_out, c->bytes_in, c->bytes_out,
           c->truncated, c->refused, c->errors);
    if (c->relay)
        upstream_text(proto, &c->up);
    printf("\n");
}
