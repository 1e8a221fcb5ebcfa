/* tlsbio.c - OpenSSL's reads and writes made as socklab's own socket calls, traced as every other.
 *
 * OpenSSL moves its records through a BIO. This one sends and receives with sock_send and
 * sock_recv, so the trace shows each record leaving in a real send(); it answers DTLS's
 * questions about the path (its MTU, the peer) from the socket, and it remembers the first
 * bytes each way, which tell a peer that echoes or speaks another protocol. */
#include "tlsbio.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sock.h"

/* A datagram that fits a 1500-byte Ethernet frame less IPv6 and UDP headers: what DTLS
 * fragments its handshake to when the socket cannot say the path's MTU. */
#define DTLS_FALLBACK_MTU 1452

/* The first bytes sent, to know them if they come straight back: the first record holds the
 * ClientHello (or the server's first flight) with 32 random bytes in it, so a peer that
 * returns them is echoing, not speaking TLS. */
#define ECHO_SAMPLE 64
#define ECHO_MIN 48

struct bio_state {
    int fd;
    bool eof;
    int mtu; /* DTLS: set by OpenSSL, or 0 */
    unsigned char first_out[ECHO_SAMPLE];
    size_t first_out_len;
    size_t in_compared; /* bytes received so far, compared with first_out */
    bool in_differs;
    int first_in; /* the first byte received, or -1: a TLS peer's is 22, a handshake record */
    /* a DTLS server's BIO: its socket is shared by every peer, so the server reads each
     * datagram itself and hands it in; replies go to this peer's address */
    bool shared;
    const char *fed;
    size_t fed_len;
    bool fed_ready;
    struct sockaddr_storage peer;
    socklen_t peerlen;
};

/* A shared socket's datagram: the one handed in, once; then nothing until the next. */
static ssize_t take_fed(struct bio_state *st, char *data, size_t len)
{
    if (!st->fed_ready) {
        errno = EAGAIN;
        return -1;
    }
    st->fed_ready = false;
    if (len > st->fed_len)
        len = st->fed_len;
    memcpy(data, st->fed, len);
    return (ssize_t)len;
}

static int bio_write(BIO *b, const char *data, size_t len, size_t *done)
{
    struct bio_state *st = BIO_get_data(b);
    ssize_t n = st->shared ? sock_sendmsg(st->fd, data, len, (struct sockaddr *)&st->peer,
                                          st->peerlen, NULL)
                           : sock_send(st->fd, data, len);

    BIO_clear_retry_flags(b);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            BIO_set_retry_write(b);
        return 0;
    }
    if (st->first_out_len == 0) {
        st->first_out_len = (size_t)n < ECHO_SAMPLE ? (size_t)n : ECHO_SAMPLE;
        memcpy(st->first_out, data, st->first_out_len);
    }
    *done = (size_t)n;
    return 1;
}

static int bio_read(BIO *b, char *data, size_t len, size_t *done)
{
    struct bio_state *st = BIO_get_data(b);
    ssize_t n = st->shared ? take_fed(st, data, len) : sock_recv(st->fd, data, len);

    BIO_clear_retry_flags(b);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            BIO_set_retry_read(b);
        return 0;
    }
    if (n > 0 && st->first_in < 0)
        st->first_in = (unsigned char)data[0];
    if (n > 0 && st->in_compared < st->first_out_len) {
        /* TLS reads a record's 5-byte header, then its body: compare across reads */
        size_t k = st->first_out_len - st->in_compared;

        if ((size_t)n < k)
            k = (size_t)n;
        if (memcmp(data, st->first_out + st->in_compared, k) != 0)
            st->in_differs = true;
        st->in_compared += k;
    }
    /* a stream's FIN; a datagram of 0 bytes is not one, but DTLS has no use for it either */
    st->eof = n == 0 && BIO_method_type(b) != BIO_TYPE_DGRAM;
    *done = (size_t)n;
    return n > 0;
}

/* The largest datagram the path takes, as the kernel knows it, less the IP and UDP
 * headers; 0 when it does not know. */
static long path_mtu(int fd)
{
    bool v6;
    int mtu = sock_path_mtu(fd, &v6);
    int headers = v6 ? 48 : 28;

    return mtu > headers ? mtu - headers : 0;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    struct bio_state *st = BIO_get_data(b);

    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1;
    case BIO_CTRL_EOF:
        return st->eof;
    case BIO_C_GET_FD:
        if (ptr != NULL)
            *(int *)ptr = st->fd;
        return st->fd;
    case BIO_CTRL_DGRAM_QUERY_MTU:
        return path_mtu(st->fd);
    case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
        return DTLS_FALLBACK_MTU;
    case BIO_CTRL_DGRAM_SET_MTU:
        st->mtu = (int)num;
        return num;
    case BIO_CTRL_DGRAM_GET_MTU:
        return st->mtu;
    case BIO_CTRL_DGRAM_MTU_EXCEEDED:
        return errno == EMSGSIZE;
    case BIO_CTRL_DGRAM_GET_PEER: {
        /* BIO_dgram_get_peer passes 0: room for a BIO_ADDR, which holds any IP address */
        socklen_t len = num > 0 ? (socklen_t)num : (socklen_t)sizeof(struct sockaddr_in6);

        if (st->shared) {
            if (ptr == NULL || len < st->peerlen)
                return 0;
            memcpy(ptr, &st->peer, st->peerlen);
            return (long)st->peerlen;
        }
        if (ptr == NULL || getpeername(st->fd, ptr, &len) < 0)
            return 0;
        return (long)len;
    }
    case BIO_CTRL_DGRAM_SET_NEXT_TIMEOUT: /* our own poll() keeps DTLS's timer */
    case BIO_CTRL_DGRAM_SET_CONNECTED:
        return 1;
    default:
        return 0;
    }
}

static int bio_create(BIO *b)
{
    BIO_set_data(b, NULL);
    return 1;
}

static int bio_destroy(BIO *b)
{
    free(BIO_get_data(b));
    BIO_set_data(b, NULL);
    BIO_set_init(b, 0);
    return 1;
}

static BIO_METHOD *bio_methods[2]; /* stream, datagram */
static pthread_once_t bio_once = PTHREAD_ONCE_INIT;

static BIO_METHOD *bio_method_new(int type, const char *name)
{
    BIO_METHOD *m = BIO_meth_new(type | BIO_get_new_index(), name);

    if (m == NULL)
        return NULL;
    BIO_meth_set_write_ex(m, bio_write);
    BIO_meth_set_read_ex(m, bio_read);
    BIO_meth_set_ctrl(m, bio_ctrl);
    BIO_meth_set_create(m, bio_create);
    BIO_meth_set_destroy(m, bio_destroy);
    return m;
}

static void bio_methods_init(void)
{
    bio_methods[0] = bio_method_new(BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR, "socklab stream");
    bio_methods[1] = bio_method_new(BIO_TYPE_DGRAM, "socklab datagram");
}

BIO *tls_bio_new(int fd, bool datagram)
{
    struct bio_state *st;
    BIO *b;

    pthread_once(&bio_once, bio_methods_init);
    if (bio_methods[datagram] == NULL || (st = calloc(1, sizeof *st)) == NULL)
        return NULL;
    b = BIO_new(bio_methods[datagram]);
    if (b == NULL) {
        free(st);
        return NULL;
    }
    st->fd = fd;
    st->first_in = -1;
    BIO_set_data(b, st);
    BIO_set_init(b, 1);
    return b;
}

bool tls_bio_echoed(BIO *b)
{
    const struct bio_state *st = BIO_get_data(b);

    return !st->in_differs && st->in_compared >= ECHO_MIN;
}

int tls_bio_first_byte(BIO *b)
{
    const struct bio_state *st = BIO_get_data(b);

    return st->first_in;
}

BIO *tls_bio_new_shared(int fd)
{
    BIO *b = tls_bio_new(fd, true);

    if (b != NULL)
        ((struct bio_state *)BIO_get_data(b))->shared = true;
    return b;
}

void tls_bio_feed(BIO *b, const void *buf, size_t len, const struct sockaddr_storage *peer,
                  socklen_t peerlen)
{
    struct bio_state *st = BIO_get_data(b);

    st->fed = buf;
    st->fed_len = len;
    st->fed_ready = true;
    memcpy(&st->peer, peer, peerlen);
    st->peerlen = peerlen;
}

void tls_bio_peer(BIO *b, const struct sockaddr_storage **peer, socklen_t *peerlen)
{
    struct bio_state *st = BIO_get_data(b);

    *peer = &st->peer;
    *peerlen = st->peerlen;
}
