/* relaymap.c - udp-echo relay's table of mappings: bounded, expiring, least recent out first.
 *
 * The table is bounded and expiring, as a NAT's is: --max-clients mappings at most (when it
 * is full, the one heard from least recently makes room), each closed once unused for
 * --idle-timeout seconds. Its memory is taken once, at start, so a flood of sources only
 * recycles it: a keyed hash finds a client's mapping, and a list, least recently heard
 * first, says which one to evict or expire next. */
#include "relay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "sock.h"

static void lru_unlink(struct udp_relay *r, struct udp_relay_map *m)
{
    if (m->prev)
        m->prev->next = m->next;
    else
        r->oldest = m->next;
    if (m->next)
        m->next->prev = m->prev;
    else
        r->newest = m->prev;
    m->prev = m->next = NULL;
}

static void lru_append(struct udp_relay *r, struct udp_relay_map *m)
{
    m->prev = r->newest;
    m->next = NULL;
    if (r->newest)
        r->newest->next = m;
    else
        r->oldest = m;
    r->newest = m;
}

void udp_relay_heard(struct udp_relay *r, struct udp_relay_map *m)
{
    m->heard_ms = r->now_ms;
    lru_unlink(r, m);
    lru_append(r, m);
}

static struct udp_relay_map **bucket(struct udp_relay *r, uint64_t h)
{
    return &r->buckets[h & r->mask];
}

struct udp_relay_map *udp_relay_find(struct udp_relay *r, const struct udp_peer_key *key,
                                     uint64_t h)
{
    for (struct udp_relay_map *m = *bucket(r, h); m != NULL; m = m->chain)
        if (memcmp(&m->key, key, sizeof *key) == 0)
            return m;
    return NULL;
}

static void unhash(struct udp_relay *r, struct udp_relay_map *m)
{
    struct udp_relay_map **p = bucket(r, m->hash);

    while (*p != m)
        p = &(*p)->chain;
    *p = m->chain;
}

/* The table, sized once: a slot for each of --max-clients mappings and twice as many hash
 * buckets (keyed with the server's per-process key, so no sender can line up a chain). */
int udp_relay_table_alloc(struct udp_relay *r)
{
    size_t slots = r->srv->opt->max_clients, buckets = 16;

    while (buckets < 2 * slots)
        buckets *= 2;
    r->maps = calloc(slots, sizeof *r->maps);
    r->buckets = calloc(buckets, sizeof *r->buckets);
    r->mask = buckets - 1;
    return r->maps != NULL && r->buckets != NULL ? 0 : -1;
}

void udp_relay_table_free(struct udp_relay *r)
{
    free(r->maps);
    free(r->buckets);
}

/* A slot for a new mapping; there is one, as the table is never full when this is called. */
struct udp_relay_map *udp_relay_slot_take(struct udp_relay *r)
{
    struct udp_relay_map *m = r->free;

    if (m != NULL)
        r->free = m->next;
    else
        m = &r->maps[r->fresh++];
    return m;
}

/* A slot back to the free list: fd -1 marks it free. */
void udp_relay_slot_give(struct udp_relay *r, struct udp_relay_map *m)
{
    m->fd = -1;
    m->next = r->free;
    r->free = m;
}

void udp_relay_insert(struct udp_relay *r, struct udp_relay_map *m)
{
    m->chain = *bucket(r, m->hash);
    *bucket(r, m->hash) = m;
    lru_append(r, m);
    r->nmaps++;
}

/* The slot stays valid memory, its fd -1, so an event for the socket already taken from
 * epoll_wait finds a free slot and is skipped. Closing the socket takes it out of the epoll
 * set. */
void udp_relay_close(struct udp_relay *r, struct udp_relay_map *m, const char *event,
                     const char *detail)
{
    if (event != NULL)
        net_out_peer(event, (const struct sockaddr *)&m->client, m->client_len, detail);
    unhash(r, m);
    lru_unlink(r, m);
    sock_close(m->fd);
    udp_relay_slot_give(r, m);
    r->nmaps--;
}

void udp_relay_evict_oldest(struct udp_relay *r)
{
    char detail[128];

    snprintf(detail, sizeof detail,
             "heard from least recently of %u (--max-clients); closing its socket, port %u",
             r->nmaps, (unsigned)r->oldest->up_port);
    r->srv->counters.up.evicted++;
    udp_relay_close(r, r->oldest, "evicted", detail);
}

/* Milliseconds before m has been unused for --idle-timeout: 0 now, -1 never (no limit). */
static int idle_left(const struct udp_relay *r, const struct udp_relay_map *m)
{
    double timeout = r->srv->opt->idle_timeout;
    double left = timeout * 1000 - (net_now_ms() - m->heard_ms);

    if (timeout <= 0)
        return -1;
    return left > 0 ? (int)left + 1 : 0;
}

/* Least recently heard first; the ms until the next one is due is the epoll timeout, so an
 * idle relay sleeps. */
int udp_relay_expire(struct udp_relay *r)
{
    char detail[128];

    while (r->oldest != NULL && idle_left(r, r->oldest) == 0) {
        snprintf(detail, sizeof detail,
                 "unused for --idle-timeout %g s; closing its socket, port %u",
                 r->srv->opt->idle_timeout, (unsigned)r->oldest->up_port);
        r->srv->counters.up.expired++;
        udp_relay_close(r, r->oldest, "expired", detail);
    }
    return r->oldest != NULL ? idle_left(r, r->oldest) : -1;
}
