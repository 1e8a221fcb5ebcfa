/* test_tls.c - TLS and DTLS sessions (common/tls.c) between a client and a server in one
 * process, over a socket pair: fingerprints as users paste them, a pinned self-signed
 * server, each way a client refuses a server and the words it says, bytes both ways. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tls.h"

/* Both ends of a socket pair (a stream for TLS, datagrams for DTLS), neither blocking. */
struct pair {
    int fd[2];
    struct tls_ctx server, client;
    SSL *s, *c;
    struct net_error serr, cerr;
};

/* A server with a self-signed certificate on one end of a socket pair. */
static void pair_open(struct pair *p, bool datagram)
{
    struct tls_config scfg = {.datagram = datagram};

    memset(p, 0, sizeof *p);
    assert_int_equal(socketpair(AF_UNIX, datagram ? SOCK_DGRAM : SOCK_STREAM, 0, p->fd), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(fcntl(p->fd[i], F_SETFL, O_NONBLOCK), 0);
    assert_int_equal(tls_server_ctx(&p->server, &scfg, &p->serr), 0);
    assert_true(p->server.self_signed);
    p->s = tls_session(&p->server, p->fd[0], NULL, &p->serr);
    assert_non_null(p->s);
}

/* A client on the other end, set up as cfg says, asking for "localhost". */
static void pair_client(struct pair *p, struct tls_config cfg)
{
    cfg.datagram = p->server.datagram;
    assert_int_equal(tls_client_ctx(&p->client, &cfg, &p->cerr), 0);
    p->c = tls_session(&p->client, p->fd[1], "localhost", &p->cerr);
    assert_non_null(p->c);
}

static void pair_close(struct pair *p)
{
    tls_session_free(p->s);
    tls_session_free(p->c);
    tls_ctx_free(&p->server);
    tls_ctx_free(&p->client);
    close(p->fd[0]);
    close(p->fd[1]);
}

/* Step both handshakes in turn until both finish: 0; or -1 when the client failed, -2 when
 * the server did (the client's refusal reaches the server as an alert too). */
static int pair_handshake(struct pair *p)
{
    bool cdone = false, sdone = false, want;

    for (int i = 0; i < 100 && !(cdone && sdone); i++) {
        int rc;

        if (!cdone) {
            if ((rc = tls_handshake_step(p->c, &want, &p->cerr)) < 0)
                return -1;
            cdone = rc == 1;
        }
        if (!sdone) {
            if ((rc = tls_handshake_step(p->s, &want, &p->serr)) < 0)
                return -2;
            sdone = rc == 1;
        }
    }
    return cdone && sdone ? 0 : -3;
}

/* What the other end has sent, once it arrives. */
static ssize_t recv_some(SSL *ssl, char *buf, size_t len)
{
    for (int i = 0; i < 100; i++) {
        ssize_t n = tls_recv(ssl, buf, len);

        if (n >= 0 || errno != EAGAIN)
            return n;
        poll(NULL, 0, 1); /* a millisecond */
    }
    return -1;
}

static void test_fingerprint_text(void **state)
{
    unsigned char md[TLS_FINGERPRINT_LEN], back[TLS_FINGERPRINT_LEN];
    char text[TLS_FINGERPRINT_TEXT + 3], bare[65]; /* room for the ":00" added below */

    (void)state;
    for (int i = 0; i < TLS_FINGERPRINT_LEN; i++)
        md[i] = (unsigned char)(i * 37 + 11);
    tls_fingerprint_format(md, text);
    assert_int_equal(strlen(text), TLS_FINGERPRINT_TEXT - 1);
    assert_memory_equal(text, "SHA256:0B:30:55:", 16);
    assert_int_equal(tls_fingerprint_parse(text, back), 0);
    assert_memory_equal(md, back, sizeof md);
    /* the hex alone, lower case, no colons: as sha256sum prints it */
    for (int i = 0; i < TLS_FINGERPRINT_LEN; i++)
        snprintf(bare + 2 * i, 3, "%02x", md[i]);
    memset(back, 0, sizeof back);
    assert_int_equal(tls_fingerprint_parse(bare, back), 0);
    assert_memory_equal(md, back, sizeof md);
    text[0] = 's'; /* sha256: */
    assert_int_equal(tls_fingerprint_parse(text, back), 0);

    assert_int_equal(tls_fingerprint_parse("", back), -1);
    assert_int_equal(tls_fingerprint_parse("SHA256:AB", back), -1);
    assert_int_equal(tls_fingerprint_parse(bare + 2, back), -1); /* 31 bytes and a half */
    bare[63] = 'g';
    assert_int_equal(tls_fingerprint_parse(bare, back), -1);
    strcat(text, ":00"); /* 33 bytes */
    assert_int_equal(tls_fingerprint_parse(text, back), -1);
}

/* A pinned self-signed server, then bytes each way: over TLS 1.3, or DTLS 1.2. */
static void pinned_exchange(bool datagram, const char *version)
{
    struct pair p;
    char buf[64];

    pair_open(&p, datagram);
    pair_client(&p, (struct tls_config){.fingerprint = p.server.fingerprint});
    assert_int_equal(pair_handshake(&p), 0);
    assert_string_equal(tls_version_name(p.c), version);
    assert_string_equal(tls_version_name(p.s), version);
    assert_int_equal(tls_send(p.c, "hello", 5), 5);
    assert_int_equal(recv_some(p.s, buf, sizeof buf), 5);
    assert_memory_equal(buf, "hello", 5);
    assert_int_equal(tls_send(p.s, buf, 5), 5);
    assert_int_equal(recv_some(p.c, buf, sizeof buf), 5);
    assert_memory_equal(buf, "hello", 5);
    /* nothing more has come: a read would wait */
    assert_int_equal(tls_recv(p.c, buf, sizeof buf), -1);
    assert_int_equal(errno, EAGAIN);
    pair_close(&p);
}

static void test_tls_pinned(void **state)
{
    (void)state;
    pinned_exchange(false, "TLS 1.3");
}

static void test_dtls_pinned(void **state)
{
    (void)state;
    pinned_exchange(true, "DTLS 1.2");
}

/* A pin that is not the server's: refused, naming the certificate the server showed. */
static void test_wrong_pin(void **state)
{
    struct pair p;
    char pin[TLS_FINGERPRINT_TEXT];
    unsigned char zero[TLS_FINGERPRINT_LEN] = {0};

    (void)state;
    tls_fingerprint_format(zero, pin);
    pair_open(&p, false);
    pair_client(&p, (struct tls_config){.fingerprint = pin});
    assert_int_equal(pair_handshake(&p), -1);
    assert_int_equal(p.cerr.kind, NET_ERR_PROTOCOL);
    assert_non_null(strstr(p.cerr.detail, p.server.fingerprint));
    assert_non_null(strstr(p.cerr.detail, "not the one --fingerprint pins"));
    assert_non_null(p.cerr.hint);
    pair_close(&p);
}

/* No pin, no CA: a self-signed server is not believed, and the client says what to do. */
static void test_untrusted(void **state)
{
    struct pair p;

    (void)state;
    pair_open(&p, false);
    pair_client(&p, (struct tls_config){0});
    assert_int_equal(pair_handshake(&p), -1);
    assert_int_equal(p.cerr.kind, NET_ERR_PROTOCOL);
    assert_non_null(strstr(p.cerr.detail, "not signed by a CA you trust"));
    assert_non_null(strstr(p.cerr.hint, "--fingerprint"));
    pair_close(&p);
}

/* --insecure believes anyone: the handshake completes. */
static void test_insecure(void **state)
{
    struct pair p;

    (void)state;
    pair_open(&p, false);
    pair_client(&p, (struct tls_config){.insecure = true});
    assert_int_equal(pair_handshake(&p), 0);
    pair_close(&p);
}

/* A plain echo server sends the ClientHello back: the client says so. */
static void echoed_hello(bool datagram)
{
    struct pair p;
    char buf[4096];
    bool want;
    ssize_t n;

    pair_open(&p, datagram);
    pair_client(&p, (struct tls_config){.insecure = true});
    assert_int_equal(tls_handshake_step(p.c, &want, &p.cerr), 0);
    n = recv(p.fd[0], buf, sizeof buf, 0);
    assert_true(n > 0);
    assert_int_equal(send(p.fd[0], buf, (size_t)n, 0), n);
    for (int i = 0; i < 10 && tls_handshake_step(p.c, &want, &p.cerr) == 0; i++)
        poll(NULL, 0, 1); /* a millisecond */
    assert_int_equal(p.cerr.kind, NET_ERR_PROTOCOL);
    assert_non_null(strstr(p.cerr.detail, "plain echo server"));
    pair_close(&p);
}

static void test_echoed_hello(void **state)
{
    (void)state;
    echoed_hello(false);
    echoed_hello(true);
}

/* Certificate files that are missing or are not what they should be: errors naming them. */
static void test_bad_files(void **state)
{
    struct tls_ctx t;
    struct net_error err;
    char junk[] = "/tmp/socklab-test-tls-XXXXXX";
    int fd = mkstemp(junk);

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "not a certificate\n", 18), 18);
    close(fd);

    memset(&err, 0, sizeof err);
    assert_int_equal(tls_server_ctx(&t, &(struct tls_config){.cert = "/nonexistent.pem"}, &err),
                     -1);
    assert_int_equal(err.kind, NET_ERR_ERRNO);
    assert_int_equal(err.code, ENOENT);
    assert_non_null(strstr(err.what, "--cert /nonexistent.pem"));

    memset(&err, 0, sizeof err);
    assert_int_equal(tls_server_ctx(&t, &(struct tls_config){.cert = junk}, &err), -1);
    assert_int_equal(err.kind, NET_ERR_USAGE);
    assert_non_null(strstr(err.detail, "not a PEM certificate"));

    memset(&err, 0, sizeof err);
    assert_int_equal(tls_client_ctx(&t, &(struct tls_config){.ca = junk}, &err), -1);
    assert_int_equal(err.kind, NET_ERR_USAGE);
    assert_non_null(strstr(err.what, "--ca"));

    memset(&err, 0, sizeof err);
    assert_int_equal(tls_client_ctx(&t, &(struct tls_config){.fingerprint = "SHA256:12"}, &err),
                     -1);
    assert_int_equal(err.kind, NET_ERR_USAGE);
    unlink(junk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fingerprint_text), cmocka_unit_test(test_tls_pinned),
        cmocka_unit_test(test_dtls_pinned),      cmocka_unit_test(test_wrong_pin),
        cmocka_unit_test(test_untrusted),        cmocka_unit_test(test_insecure),
        cmocka_unit_test(test_echoed_hello),     cmocka_unit_test(test_bad_files),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
