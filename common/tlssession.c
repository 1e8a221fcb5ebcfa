/* tlssession.c - TLS and DTLS sessions: the handshake, and the bytes.
 *
 * Each session reads and writes through tlsbio.c's BIO, so the trace shows its records as
 * real socket calls, and a message callback names what each record holds (ClientHello,
 * Finished, an alert). A failed handshake is told in words by tlsfail.c. */
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "clock.h"
#include "tlsbio.h"
#include "trace.h"

/* --- what the records hold, for the trace -------------------------------------------------- */

static const char *handshake_name(int type)
{
    switch (type) {
    case 1:
        return "ClientHello";
    case 2:
        return "ServerHello";
    case 3:
        return "HelloVerifyRequest";
    case 4:
        return "NewSessionTicket";
    case 8:
        return "EncryptedExtensions";
    case 11:
        return "Certificate";
    case 12:
        return "ServerKeyExchange";
    case 13:
        return "CertificateRequest";
    case 14:
        return "ServerHelloDone";
    case 15:
        return "CertificateVerify";
    case 16:
        return "ClientKeyExchange";
    case 20:
        return "Finished";
    case 24:
        return "KeyUpdate";
    default:
        return "a handshake message";
    }
}

/* A record of application data went out or came in: what an eavesdropper sees of the
 * user's bytes. */
static void trace_record(const struct tls_extra *x, bool sent, int len)
{
    char what[80];

    snprintf(what, sizeof what, "%s application data, encrypted: %d bytes",
             x->dtls ? "DTLS" : "TLS", len);
    trace_tls(x->fd, sent, what);
}

/* A record header (type 23, length len) or, in TLS 1.3, a record's inner type: once both
 * are known, a record that really holds application data is traced. */
static void record_seen(SSL *ssl, struct tls_extra *x, bool sent, int len, int inner)
{
    if (SSL_version(ssl) != TLS1_3_VERSION) {
        if (len >= 0)
            trace_record(x, sent, len);
        return;
    }
    if (len >= 0)
        x->record_len[sent] = len;
    if (inner >= 0)
        x->inner_type[sent] = inner;
    if (x->record_len[sent] < 0 || x->inner_type[sent] < 0)
        return;
    if (x->inner_type[sent] == SSL3_RT_APPLICATION_DATA)
        trace_record(x, sent, x->record_len[sent]);
    x->record_len[sent] = x->inner_type[sent] = -1;
}

/* Called by OpenSSL for every message it sends or takes. */
static void on_message(int sent, int version, int type, const void *buf, size_t len, SSL *ssl,
                       void *arg)
{
    const unsigned char *p = buf;
    struct tls_extra *x = SSL_get_app_data(ssl);
    const char *proto = SSL_is_dtls(ssl) ? "DTLS" : "TLS";
    char what[160];

    (void)version;
    (void)arg;
    if (type == SSL3_RT_ALERT && !sent && len >= 2)
        x->alert_in = p[1];
    if (type == SSL3_RT_HANDSHAKE && !sent && len >= 1 && p[0] == SSL3_MT_CERTIFICATE_REQUEST)
        x->cert_requested = true;
    if (!net_trace_on())
        return;
    switch (type) {
    case SSL3_RT_HANDSHAKE:
        if (len == 0)
            return;
        snprintf(what, sizeof what, "%s %s", proto, handshake_name(p[0]));
        break;
    case SSL3_RT_CHANGE_CIPHER_SPEC:
        snprintf(what, sizeof what, "%s ChangeCipherSpec", proto);
        break;
    case SSL3_RT_ALERT:
        if (len < 2)
            return;
        snprintf(what, sizeof what, "%s alert: %s", proto, SSL_alert_desc_string_long(p[1]));
        break;
    case SSL3_RT_HEADER: {
        size_t at = SSL_is_dtls(ssl) ? 11 : 3; /* where the length is */

        if (len >= at + 2 && p[0] == SSL3_RT_APPLICATION_DATA && SSL_is_init_finished(ssl))
            record_seen(ssl, x, sent, p[at] << 8 | p[at + 1], -1);
        return;
    }
    case SSL3_RT_INNER_CONTENT_TYPE:
        if (len >= 1 && SSL_is_init_finished(ssl))
            record_seen(ssl, x, sent, -1, p[0]);
        return;
    default:
        return;
    }
    trace_tls(x->fd, sent, what);
}

/* --- sessions ------------------------------------------------------------------------------ */

static bool is_ip_literal(const char *host)
{
    unsigned char buf[sizeof(struct in6_addr)];

    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

SSL *tls_session(struct tls_ctx *t, int fd, const char *host, struct net_error *err)
{
    struct tls_extra *x = calloc(1, sizeof *x);
    SSL *ssl = SSL_new(t->ssl_ctx);
    BIO *bio = tls_bio_new(fd, t->datagram);

    if (x == NULL || ssl == NULL || bio == NULL) {
        free(x);
        SSL_free(ssl);
        BIO_free(bio);
        net_err_errno(err, ENOMEM, "cannot start a %s session", t->datagram ? "DTLS" : "TLS");
        return NULL;
    }
    x->fd = fd;
    x->dtls = t->datagram;
    x->record_len[0] = x->record_len[1] = x->inner_type[0] = x->inner_type[1] = -1;
    x->alert_in = -1;
    SSL_set_app_data(ssl, x);
    SSL_set_bio(ssl, bio, bio);
    SSL_set_msg_callback(ssl, on_message);
    if (t->server) {
        SSL_set_accept_state(ssl);
        return ssl;
    }
    SSL_set_connect_state(ssl);
    if (host != NULL && !t->insecure && !t->pinned) {
        /* the certificate must name what the user asked for: a host name, or an address */
        if (is_ip_literal(host))
            X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host);
        else
            SSL_set1_host(ssl, host);
    }
    if (host != NULL && !is_ip_literal(host))
        SSL_set_tlsext_host_name(ssl, host); /* SNI: which site, for a server with several */
    return ssl;
}

SSL *tls_session_shared(struct tls_ctx *t, int fd, struct net_error *err)
{
    SSL *ssl = tls_session(t, fd, NULL, err);
    BIO *bio = ssl != NULL ? tls_bio_new_shared(fd) : NULL;

    if (bio == NULL) {
        tls_session_free(ssl);
        if (ssl != NULL)
            net_err_errno(err, ENOMEM, "cannot start a DTLS session");
        return NULL;
    }
    SSL_set_bio(ssl, bio, bio); /* the connected-socket BIO goes */
    return ssl;
}

void tls_feed(SSL *ssl, const void *buf, size_t len, const struct sockaddr_storage *peer,
              socklen_t peerlen)
{
    tls_bio_feed(SSL_get_rbio(ssl), buf, len, peer, peerlen);
}

int tls_listen(SSL *ssl)
{
    BIO_ADDR *client = BIO_ADDR_new();
    int rc = client != NULL ? DTLSv1_listen(ssl, client) : -1;

    BIO_ADDR_free(client);
    ERR_clear_error();
    return rc == 1;
}

void tls_session_free(SSL *ssl)
{
    if (ssl == NULL)
        return;
    free(SSL_get_app_data(ssl));
    SSL_free(ssl);
}

int tls_handshake_step(SSL *ssl, bool *want_write, struct net_error *err)
{
    int rc, code;

    ERR_clear_error();
    errno = 0;
    rc = SSL_do_handshake(ssl);
    if (rc == 1)
        return 1;
    code = SSL_get_error(ssl, rc);
    if (code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE) {
        *want_write = code == SSL_ERROR_WANT_WRITE;
        return 0;
    }
    return tls_handshake_failed(ssl, code, err);
}

/* The handshake, step by step, waiting in poll() for the socket (and DTLS's timer). */
static int handshake_until(SSL *ssl, int timeout_ms, struct net_error *err)
{
    double deadline = net_now_ms() + timeout_ms;
    struct tls_extra *x = SSL_get_app_data(ssl);

    for (;;) {
        bool want_write = false;
        struct pollfd pfd = {.fd = x->fd};
        struct timeval tv;
        int wait_ms = timeout_ms < 0 ? -1 : (int)(deadline - net_now_ms());
        int rc = tls_handshake_step(ssl, &want_write, err);

        if (rc != 0)
            return rc < 0 ? -1 : 0;
        if (timeout_ms >= 0 && wait_ms <= 0)
            return tls_handshake_timed_out(ssl, timeout_ms, err);
        /* DTLS keeps a retransmission timer of its own: wake for it too */
        if (DTLSv1_get_timeout(ssl, &tv) == 1) {
            int dtls_ms = (int)(tv.tv_sec * 1000 + tv.tv_usec / 1000) + 1;

            if (wait_ms < 0 || dtls_ms < wait_ms)
                wait_ms = dtls_ms;
        }
        pfd.events = want_write ? POLLOUT : POLLIN;
        rc = poll(&pfd, 1, wait_ms);
        if (rc < 0 && errno != EINTR)
            return net_err_errno(err, errno, "%s handshake", SSL_is_dtls(ssl) ? "DTLS" : "TLS");
        if (rc == 0 && SSL_is_dtls(ssl))
            DTLSv1_handle_timeout(ssl);
    }
}

int tls_handshake(SSL *ssl, int timeout_ms, struct net_error *err)
{
    const struct tls_extra *x = SSL_get_app_data(ssl);
    int flags = fcntl(x->fd, F_GETFL);
    bool blocking = flags >= 0 && !(flags & O_NONBLOCK);
    int rc;

    /* a read that waits would wait past the time limit, for a peer that never answers: the
     * socket waits in poll() instead, and is given back as it came */
    if (blocking)
        fcntl(x->fd, F_SETFL, flags | O_NONBLOCK);
    rc = handshake_until(ssl, timeout_ms, err);
    if (blocking)
        fcntl(x->fd, F_SETFL, flags);
    return rc;
}

SSL *tls_connect(struct tls_ctx *t, int fd, const char *host, const char *name, int timeout_ms,
                 struct net_error *err)
{
    return tls_connect_offering(t, fd, host, name, timeout_ms, NULL, err);
}

SSL *tls_connect_offering(struct tls_ctx *t, int fd, const char *host, const char *name,
                          int timeout_ms, SSL_SESSION *offer, struct net_error *err)
{
    SSL *ssl = tls_session(t, fd, host, err);

    if (ssl == NULL)
        return NULL;
    if (offer != NULL)
        SSL_set_session(ssl, offer);
    if (tls_handshake(ssl, timeout_ms, err) < 0) {
        snprintf(err->what, sizeof err->what, "%s handshake with %s", t->datagram ? "DTLS" : "TLS",
                 name);
        tls_session_free(ssl);
        return NULL;
    }
    return ssl;
}

bool tls_resumed(SSL *ssl)
{
    return SSL_session_reused(ssl) == 1;
}

SSL_SESSION *tls_offer_of(SSL *ssl)
{
    SSL_SESSION *s = SSL_get1_session(ssl);

    if (s != NULL && SSL_SESSION_is_resumable(s) != 1) {
        SSL_SESSION_free(s);
        return NULL;
    }
    return s;
}

void tls_offer_free(SSL_SESSION *offer)
{
    SSL_SESSION_free(offer);
}

/* errno for a call that did not complete: SSL_get_error's answer as a socket call's. */
static ssize_t failed(SSL *ssl, int saved)
{
    int code = SSL_get_error(ssl, 0);

    ERR_clear_error();
    switch (code) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        /* a signal interrupted the socket call: the caller may want to know */
        errno = saved == EINTR ? EINTR : EAGAIN;
        return -1;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    case SSL_ERROR_SYSCALL:
        errno = saved != 0 ? saved : ECONNRESET;
        return -1;
    default:
        errno = EPROTO;
        return -1;
    }
}

ssize_t tls_send(SSL *ssl, const void *buf, size_t len)
{
    size_t done = 0;

    ERR_clear_error();
    errno = 0;
    if (SSL_write_ex(ssl, buf, len, &done) == 1)
        return (ssize_t)done;
    return failed(ssl, errno);
}

ssize_t tls_recv(SSL *ssl, void *buf, size_t len)
{
    size_t done = 0;

    ERR_clear_error();
    errno = 0;
    if (SSL_read_ex(ssl, buf, len, &done) == 1)
        return (ssize_t)done;
    return failed(ssl, errno);
}

bool tls_pending(SSL *ssl)
{
    return SSL_pending(ssl) > 0;
}

void tls_close_notify(SSL *ssl)
{
    ERR_clear_error();
    if (SSL_is_init_finished(ssl))
        SSL_shutdown(ssl);
    ERR_clear_error();
}
