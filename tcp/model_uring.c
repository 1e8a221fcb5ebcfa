/* model_uring.c - one thread, one io_uring, every connection (Linux): the kernel does the I/O.
 *
 * epoll says which sockets are ready, and the program still makes every recv() and send()
 * itself. Here the program queues the operations themselves (accept, recv, send) for the
 * kernel and later collects what came of each; one io_uring_enter() both submits what is
 * queued and waits for completions, so one system call carries many operations: this is
 * Linux's asynchronous I/O.
 *
 * Each connection has one operation in flight: a recv, the send of its echo, the next recv. A
 * waiting recv holds no buffer: the kernel takes one from a shared pool when data arrives
 * (provided buffers). The echo is sent with MSG_DONTWAIT; what the kernel will not take at once
 * becomes pending output, as in the epoll model, and the connection receives nothing more
 * until it has gone: a client that sends but never reads is throttled by its own full window.
 * The accept is queued again after each client, not once (multishot): a multishot accept
 * writes every client's address into one place, and -v and --allow need each. With --tls,
 * OpenSSL reads and writes the socket itself, so the ring only reports when the socket is
 * ready (a poll operation), as epoll would, and echo.c's steps do the rest. */
#define _GNU_SOURCE /* liburing.h needs cpu_set_t; MAP_ANONYMOUS */
#include "tcp.h"

#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "signals.h"
#include "sock.h"
#include "trace.h"

#define RING_ENTRIES 256
/* The receive pool: about this many bytes, in 8 to 256 buffers of --recv-size each. */
#define POOL_BYTES (2u << 20)
#define POOL_MIN 8
#define POOL_MAX 256
#define POOL_GROUP 0

/* What a connection has in flight. */
enum uring_op {
    OP_NONE,
    OP_RECV,    /* a recv into a pool buffer */
    OP_SEND,    /* the echo (or --reply), sent without waiting */
    OP_FLUSH,   /* pending output, sent once there is room */
    OP_POLL,    /* --tls: waiting until the socket is ready for the session's next step */
    OP_STARVED, /* nothing: every pool buffer was in use; it waits in line for one */
};

struct uring_conn {
    struct tcp_conn c; /* first, so the list's tcp_conn is this: fd, peer, TLS, pending, idle */
    enum uring_op op;
    const char *out; /* OP_SEND: the answer being sent, out_len bytes */
    size_t out_len;
    int buf_id;   /* the pool buffer the answer lies in, or -1 */
    bool closing; /* dropped: closed and freed once its operation comes back */
};

/* Receive buffers, registered with the kernel as one group a recv may pick from. */
struct pool {
    struct io_uring_buf_ring *ring; /* the buffers the kernel may pick from now */
    char *bufs;
    unsigned count; /* a power of two */
    unsigned free;  /* buffers in the kernel's hands, not holding anything */
    size_t size;    /* --recv-size */
};

struct uring_model {
    struct tcp_server *srv;
    struct io_uring ring;
    struct pool pool;
    char *tls_buf;          /* --tls: the buffer echo.c's steps read into */
    struct tcp_conns conns; /* by idle.since, for --idle-timeout */
    unsigned nconns;        /* connections being served */
    unsigned nstarved;      /* connections waiting for a pool buffer (OP_STARVED) */
    unsigned nclosing;      /* dropped, their last operation not back yet */
    unsigned long long accepted;
    bool accepting;  /* an accept (or, out_of_fds, a poll of the listening socket) is queued */
    bool out_of_fds; /* the last accept failed for want of a descriptor */
    bool watching_signals, stopping;
    struct tcp_peer next_peer; /* where the accept in flight puts its client's address */
    int reserve_fd; /* held back so a client can still be shed when descriptors run out */
};

/* What a completion is for, when it is not a connection's. */
static char accept_mark, listen_mark, signal_mark, cancel_mark;

/* A kernel that refuses io_uring altogether says EPERM (sysctl kernel.io_uring_disabled, a
 * seccomp filter as in many containers) or ENOSYS (built without it, or filtered so). */
static int ring_failed(struct net_error *err, int code)
{
    if (code != EPERM && code != ENOSYS)
        return net_err_errno(err, code, "cannot set up the io_uring model");
    net_err_errno(err, code,
                  "--model uring: the kernel refuses io_uring (turned off by sysctl "
                  "kernel.io_uring_disabled, or forbidden by a seccomp filter)");
    err->hint = "try --model epoll";
    return -1;
}

int tcp_uring_available(struct net_error *err)
{
    struct io_uring ring;
    int rc = io_uring_queue_init(1, &ring, 0);

    if (rc == 0)
        io_uring_queue_exit(&ring);
    return rc < 0 ? ring_failed(err, -rc) : 0;
}

/* Hand buffer id (-1: none) back to the kernel, for a later recv to fill. */
static void give_back(struct uring_model *m, int id)
{
    struct pool *p = &m->pool;

    if (id < 0)
        return;
    io_uring_buf_ring_add(p->ring, p->bufs + (size_t)id * p->size, (unsigned)p->size,
                          (unsigned short)id, io_uring_buf_ring_mask(p->count), 0);
    io_uring_buf_ring_advance(p->ring, 1);
    p->free++;
}

/* The pool: as many buffers of --recv-size as fit in POOL_BYTES, within bounds. */
static int pool_open(struct uring_model *m)
{
    struct pool *p = &m->pool;
    struct io_uring_buf_reg reg;
    int rc;

    p->size = m->srv->opt->recv_size;
    for (p->count = POOL_MIN; p->count < POOL_MAX && p->count * 2 * p->size <= POOL_BYTES;)
        p->count *= 2;
    p->ring = mmap(NULL, p->count * sizeof(struct io_uring_buf), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p->ring == MAP_FAILED) {
        p->ring = NULL;
        return -1;
    }
    if ((p->bufs = malloc(p->count * p->size)) == NULL) {
        errno = ENOMEM;
        return -1;
    }
    io_uring_buf_ring_init(p->ring);
    reg = (struct io_uring_buf_reg){
        .ring_addr = (unsigned long)p->ring, .ring_entries = p->count, .bgid = POOL_GROUP};
    /* provided buffer rings came with Linux 5.19: an older kernel says EINVAL */
    if ((rc = io_uring_register_buf_ring(&m->ring, &reg, 0)) < 0) {
        errno = -rc;
        return -1;
    }
    for (unsigned id = 0; id < p->count; id++)
        give_back(m, (int)id);
    return 0;
}

/* A submission queue entry whose completion will name data (a full queue is submitted first). */
static struct io_uring_sqe *next_sqe(struct uring_model *m, void *data)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&m->ring);

    if (sqe == NULL && io_uring_submit(&m->ring) >= 0)
        sqe = io_uring_get_sqe(&m->ring);
    if (sqe != NULL)
        io_uring_sqe_set_data(sqe, data);
    return sqe;
}

/* The same for a connection's next operation: without one it cannot go on (an error). */
static struct io_uring_sqe *conn_sqe(struct uring_model *m, struct uring_conn *u, enum uring_op op)
{
    struct io_uring_sqe *sqe = next_sqe(m, u);

    if (sqe == NULL)
        m->srv->counters.errors++;
    else
        u->op = op;
    return sqe;
}

/* Ask for the client's next bytes, into whichever pool buffer is free when they arrive. */
static bool want_recv(struct uring_model *m, struct uring_conn *u)
{
    struct io_uring_sqe *sqe = conn_sqe(m, u, OP_RECV);

    if (sqe == NULL)
        return false;
    io_uring_prep_recv(sqe, u->c.fd, NULL, m->pool.size, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = POOL_GROUP;
    return true;
}

/* Send an answer without waiting for room (MSG_DONTWAIT): the kernel takes what fits now. */
static bool want_send(struct uring_model *m, struct uring_conn *u, const char *out, size_t len,
                      int buf_id)
{
    struct io_uring_sqe *sqe = conn_sqe(m, u, OP_SEND);

    if (sqe == NULL) {
        give_back(m, buf_id);
        return false;
    }
    u->out = out;
    u->out_len = len;
    u->buf_id = buf_id;
    /* MSG_NOSIGNAL: a client that has gone gives EPIPE, not a fatal SIGPIPE */
    io_uring_prep_send(sqe, u->c.fd, out, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    return true;
}

/* Send pending output; this send waits until the client has made room. */
static bool want_flush(struct uring_model *m, struct uring_conn *u)
{
    struct io_uring_sqe *sqe = conn_sqe(m, u, OP_FLUSH);

    if (sqe == NULL)
        return false;
    io_uring_prep_send(sqe, u->c.fd, u->c.pending + u->c.pending_off,
                       u->c.pending_len - u->c.pending_off, MSG_NOSIGNAL);
    return true;
}

/* --tls: wait until the socket is ready for what the session waits for. */
static bool want_poll(struct uring_model *m, struct uring_conn *u)
{
    struct io_uring_sqe *sqe = conn_sqe(m, u, OP_POLL);

    if (sqe == NULL)
        return false;
    io_uring_prep_poll_add(sqe, u->c.fd, tcp_conn_wants_write(&u->c) ? POLLOUT : POLLIN);
    return true;
}

/* Queue what the connection does next: send what is pending, or else receive. */
static bool next_op(struct uring_model *m, struct uring_conn *u)
{
    if (u->c.tls != NULL)
        return want_poll(m, u);
    return u->c.pending ? want_flush(m, u) : want_recv(m, u);
}

/* Have the kernel report (with mark) when fd has something to read; false if it cannot. */
static bool watch(struct uring_model *m, int fd, void *mark)
{
    struct io_uring_sqe *sqe = next_sqe(m, mark);

    if (sqe != NULL)
        io_uring_prep_poll_add(sqe, fd, POLLIN);
    return sqe != NULL;
}

/* Take the next client from the listen queue. Out of descriptors, first wait for one to be
 * queued: an accept with no descriptor to give fails at once, client or none (a spin). */
static void want_accept(struct uring_model *m)
{
    struct io_uring_sqe *sqe;

    if (m->out_of_fds) {
        m->accepting = watch(m, m->srv->listen_fd, &listen_mark);
        return;
    }
    if ((sqe = next_sqe(m, &accept_mark)) == NULL)
        return;
    m->next_peer.len = sizeof m->next_peer.addr;
    io_uring_prep_accept(sqe, m->srv->listen_fd, (struct sockaddr *)&m->next_peer.addr,
                         &m->next_peer.len, 0);
    m->accepting = true;
}

static void finish(struct uring_model *m, struct uring_conn *u)
{
    give_back(m, u->buf_id);
    tcp_conn_close(&u->c);
    free(u);
}

/* Ask the kernel to give up the operation whose completion names data: while it is in
 * flight, the ring holds its socket open, whatever close() says. */
static void cancel(struct uring_model *m, void *data)
{
    struct io_uring_sqe *sqe = next_sqe(m, &cancel_mark);

    if (sqe != NULL)
        io_uring_prep_cancel(sqe, data, 0);
}

/* Stop serving a connection: its operation is cancelled first, and the socket closed once
 * that comes back. */
static void drop_conn(struct uring_model *m, struct uring_conn *u)
{
    net_out_peer("closed", (const struct sockaddr *)&u->c.peer.addr, u->c.peer.len, NULL);
    tcp_conns_remove(&m->conns, &u->c);
    m->nconns--;
    if (u->op == OP_STARVED)
        m->nstarved--;
    if (u->op == OP_NONE || u->op == OP_STARVED) {
        finish(m, u);
        return;
    }
    cancel(m, u);
    u->closing = true;
    m->nclosing++;
}

static void add_conn(struct uring_model *m, int fd, const struct tcp_peer *peer)
{
    struct uring_conn *u = malloc(sizeof *u);

    if (u == NULL) {
        sock_close(fd);
        return;
    }
    m->srv->counters.clients++;
    m->accepted++;
    m->nconns++;
    net_out_peer("accepted", (const struct sockaddr *)&peer->addr, peer->len, NULL);
    *u = (struct uring_conn){.op = OP_NONE, .buf_id = -1};
    if (tcp_conn_open(m->srv, &u->c, fd, peer) == TCP_CLOSE || !next_op(m, u)) {
        tcp_conn_close(&u->c);
        free(u);
        m->nconns--;
        return;
    }
    tcp_conns_append(&m->conns, &u->c);
}

static bool may_accept(const struct uring_model *m)
{
    const struct net_options *opt = m->srv->opt;

    if (m->stopping || (opt->once && m->accepted >= 1) || tcp_server_resting(m->srv) > 0)
        return false;
    return opt->max_clients == 0 || m->nconns < opt->max_clients;
}

/* The accept came back: a new connection's descriptor, or -errno. */
static void accepted(struct uring_model *m, int res)
{
    struct tcp_peer peer = m->next_peer;
    int fd;

    m->accepting = false;
    if (res == -ECANCELED)
        return; /* the server is stopping */
    m->out_of_fds = res == -EMFILE || res == -ENFILE;
    errno = res < 0 ? -res : 0;
    trace_accept(m->srv->listen_fd, (struct sockaddr *)&peer.addr, peer.len, res);
    if (res < 0) {
        /* out of descriptors: shed a client with the reserve, or rest (accept.c) */
        tcp_server_accept_failed(m->srv, &m->reserve_fd);
        return;
    }
    if (m->stopping) {
        sock_close(res);
        return;
    }
    if ((fd = tcp_server_admit(m->srv, res, &peer)) < 0)
        return;
    m->srv->rest_ms = 0;
    add_conn(m, fd, &peer);
}

/* A recv came back: res bytes in pool buffer id, 0 for the client's FIN, or -errno. */
static bool received(struct uring_model *m, struct uring_conn *u, int res, int id)
{
    const char *buf, *reply;
    size_t len;

    if (res == -ENOBUFS) {
        u->op = OP_STARVED; /* every pool buffer is in use: wait for one (wake_starved) */
        m->nstarved++;
        return true;
    }
    errno = res < 0 ? -res : 0;
    trace_recv(u->c.fd, m->pool.size, res < 0 ? -1 : res);
    /* the FIN: with one operation at a time, the echo of everything before it has gone */
    if (res <= 0 || id < 0) {
        give_back(m, id);
        if (res != 0)
            m->srv->counters.errors++;
        return false;
    }
    buf = m->pool.bufs + (size_t)id * m->pool.size;
    reply = tcp_conn_heard(m->srv, &u->c, buf, (size_t)res, &len);
    if (reply != buf)
        give_back(m, id); /* --reply sends its own text, --discard nothing */
    if (reply == NULL)
        return want_recv(m, u);
    return want_send(m, u, reply, len, reply == buf ? id : -1);
}

/* The send of an answer came back: res bytes taken, or -errno (EAGAIN: none fitted). */
static bool sent(struct uring_model *m, struct uring_conn *u, int res)
{
    enum tcp_step step;

    errno = res < 0 ? -res : 0;
    trace_send(u->c.fd, u->out_len, res < 0 ? -1 : res);
    /* what the kernel did not take is copied out as pending output; the buffer goes back */
    step = tcp_conn_sent(m->srv, &u->c, u->out, u->out_len, res < 0 ? -1 : res);
    give_back(m, u->buf_id);
    u->buf_id = -1;
    if (step == TCP_CLOSE)
        return false;
    m->srv->counters.msgs_out++;
    return next_op(m, u);
}

/* A send of pending output came back: res bytes taken, or -errno. */
static bool flushed(struct uring_model *m, struct uring_conn *u, int res)
{
    errno = res < 0 ? -res : 0;
    trace_send(u->c.fd, u->c.pending_len - u->c.pending_off, res < 0 ? -1 : res);
    return tcp_conn_flushed(m->srv, &u->c, res < 0 ? -1 : res) == TCP_KEEP && next_op(m, u);
}

/* --tls: the socket is ready for the session's next step, which echo.c takes. */
static bool polled(struct uring_model *m, struct uring_conn *u, int res)
{
    enum tcp_step step;

    if (res < 0) {
        m->srv->counters.errors++;
        return false;
    }
    step = tcp_conn_wants_write(&u->c) ? tcp_conn_writable(m->srv, &u->c)
                                       : tcp_conn_readable(m->srv, &u->c, m->tls_buf);
    return step == TCP_KEEP && want_poll(m, u);
}

/* A connection's operation came back: act on it, and queue the next. */
static void conn_done(struct uring_model *m, struct uring_conn *u, const struct io_uring_cqe *cqe)
{
    int id = cqe->flags & IORING_CQE_F_BUFFER ? (int)(cqe->flags >> IORING_CQE_BUFFER_SHIFT) : -1;
    double since = u->c.idle.since;
    enum uring_op op = u->op;
    bool keep;

    if (id >= 0)
        m->pool.free--;
    u->op = OP_NONE;
    if (u->closing) {
        give_back(m, id);
        finish(m, u);
        m->nclosing--;
        return;
    }
    keep = op == OP_RECV    ? received(m, u, cqe->res, id)
           : op == OP_SEND  ? sent(m, u, cqe->res)
           : op == OP_FLUSH ? flushed(m, u, cqe->res)
                            : polled(m, u, cqe->res);
    if (keep)
        tcp_conns_touched(&m->conns, &u->c, since);
    else
        drop_conn(m, u);
}

/* Act on every completion the kernel has posted, each copied out so its slot is free. */
static void reap(struct uring_model *m)
{
    struct io_uring_cqe *cqe;

    while (io_uring_peek_cqe(&m->ring, &cqe) == 0) {
        struct io_uring_cqe done = *cqe;
        void *data = io_uring_cqe_get_data(&done);

        io_uring_cqe_seen(&m->ring, cqe);
        if (data == &accept_mark)
            accepted(m, done.res);
        else if (data == &listen_mark)
            m->accepting = m->out_of_fds = false; /* a client is queued: accept it */
        else if (data == &signal_mark)
            m->watching_signals = false;
        else if (data != &cancel_mark)
            conn_done(m, data, &done);
    }
}

/* Buffers came back: connections that found none ask again, oldest first, one per buffer. */
static void wake_starved(struct uring_model *m)
{
    unsigned free = m->pool.free;

    for (struct uring_conn *u = (void *)m->conns.oldest, *next; u && m->nstarved && free;
         u = next) {
        next = (void *)u->c.next;
        if (u->op != OP_STARVED)
            continue;
        m->nstarved--;
        free--;
        u->op = OP_NONE;
        if (!want_recv(m, u))
            drop_conn(m, u);
    }
}

/* Hand the kernel every queued operation and wait for at least one completion, timeout_ms at
 * most (-1: no limit): one io_uring_enter() does both. Negative: -errno (ETIME: the time ran
 * out; EINTR: a signal came). */
static int submit_and_wait(struct uring_model *m, int timeout_ms)
{
    struct __kernel_timespec ts = {.tv_sec = timeout_ms / 1000,
                                   .tv_nsec = (long long)(timeout_ms % 1000) * 1000000};
    struct io_uring_cqe *cqe;

    if (timeout_ms < 0)
        return io_uring_submit_and_wait(&m->ring, 1);
    return io_uring_submit_and_wait_timeout(&m->ring, &cqe, 1, &ts, NULL);
}

/* Close connections idle for --idle-timeout, oldest first; returns ms until the next one
 * is due, or -1 when there is none to wait for. */
static int expire_idle(struct uring_model *m)
{
    while (m->conns.oldest && tcp_idle_left(m->srv, &m->conns.oldest->idle) == 0) {
        tcp_idle_notice(&m->conns.oldest->peer, &m->conns.oldest->idle);
        drop_conn(m, (void *)m->conns.oldest);
    }
    return m->conns.oldest ? tcp_idle_left(m->srv, &m->conns.oldest->idle) : -1;
}

/* Close every connection, and cancel the accept and the watch on the signal pipe: wait, 1 s
 * at most, until all are back, so the ring holds no socket (clients see their FIN at once,
 * and the port is free for the next server as soon as this one has gone). */
static void close_all(struct uring_model *m)
{
    m->stopping = true;
    while (m->conns.oldest)
        drop_conn(m, (void *)m->conns.oldest);
    if (m->accepting)
        cancel(m, m->out_of_fds ? &listen_mark : &accept_mark);
    if (m->watching_signals)
        cancel(m, &signal_mark);
    for (int ms = 0; ms < 1000 && (m->nclosing || m->accepting || m->watching_signals); ms += 10) {
        submit_and_wait(m, 10);
        reap(m);
    }
}

static bool finished(const struct uring_model *m)
{
    return m->srv->opt->once && m->accepted >= 1 && m->nconns == 0;
}

static int setup(struct uring_model *m, struct net_error *err)
{
    if (pool_open(m) < 0)
        return net_err_errno(err, errno, "cannot set up the io_uring model's receive buffers");
    if (m->srv->opt->tls_on && (m->tls_buf = malloc(m->srv->opt->recv_size)) == NULL)
        return net_err_errno(err, ENOMEM, "cannot set up the io_uring model");
    /* tcp_server_shed accepts a client with accept() itself: it must not wait for one */
    if (sock_nonblocking(m->srv->listen_fd) < 0)
        return net_err_errno(err, errno, "cannot set up the io_uring model");
    m->reserve_fd = tcp_server_reserve();
    return 0;
}

int tcp_model_uring(struct tcp_server *srv, struct net_error *err)
{
    struct uring_model m = {.srv = srv, .reserve_fd = -1};
    int rc = io_uring_queue_init(RING_ENTRIES, &m.ring, 0);

    if (rc < 0)
        return ring_failed(err, -rc);
    rc = setup(&m, err);
    while (rc == 0 && !finished(&m)) {
        int timeout = tcp_server_timeout(srv, expire_idle(&m));
        int n;

        if (!m.accepting && may_accept(&m))
            want_accept(&m);
        /* a signal writes to the pipe (and ends a wait under way with EINTR) */
        if (!m.watching_signals)
            m.watching_signals = watch(&m, net_signal_fd(), &signal_mark);
        n = submit_and_wait(&m, timeout);
        /* EBUSY, EAGAIN: the kernel lacks room for now; reaping makes some */
        if (n < 0 && n != -EINTR && n != -ETIME && n != -EBUSY && n != -EAGAIN) {
            rc = net_err_errno(err, -n, "io_uring_enter failed");
            break;
        }
        reap(&m);
        wake_starved(&m);
        if (tcp_server_signalled(srv))
            break;
    }
    close_all(&m);
    io_uring_queue_exit(&m.ring);
    if (m.pool.ring != NULL)
        munmap(m.pool.ring, m.pool.count * sizeof(struct io_uring_buf));
    free(m.pool.bufs);
    free(m.tls_buf);
    if (m.reserve_fd >= 0)
        close(m.reserve_fd);
    return rc;
}
