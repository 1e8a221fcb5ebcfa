/* tls.c - TLS and DTLS sessions over socklab's own socket calls, with OpenSSL 3.
 *
 * OpenSSL reads and writes the socket through a BIO made here, which makes its calls with
 * sock_send and sock_recv: so the trace shows every record going out as a real send(), and
 * a message callback names what each record holds (ClientHello, Finished, an alert). */
#define _GNU_SOURCE /* IP_MTU */
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "clock.h"
#include "sock.h"
#include "trace.h"

/* A self-signed certificate made at start is good for this long (and from a minute ago, so
 * a peer whose clock is a little behind still accepts it). */
#define SELF_SIGNED_DAYS 30
/* A datagram that fits a 1500-byte Ethernet frame less IPv6 and UDP headers: what DTLS
 * fragments its handshake to when the socket cannot say the path's MTU. */
#define DTLS_FALLBACK_MTU 1452

/* What we keep beside each session. */
struct extra {
    int fd;
    /* TLS 1.3 sends every record as "application data" outside and names the real type
     * inside: a record's length and its inner type, by direction, until both are known */
    int record_len[2], inner_type[2];
    int alert_in; /* the last alert received (its description), or -1 */
    bool pin_failed;
    char seen[TLS_FINGERPRINT_TEXT]; /* the certificate the peer showed, when pinning failed */
};

/* --- fingerprints ------------------------------------------------------------------------ */

static int hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int tls_fingerprint_parse(const char *text, unsigned char md[TLS_FINGERPRINT_LEN])
{
    size_t n = 0;

    if (strncasecmp(text, "SHA256:", 7) == 0)
        text += 7;
    while (*text != '\0') {
        int hi, lo;

        if (*text == ':') {
            text++;
            continue;
        }
        hi = hex_digit((unsigned char)text[0]);
        lo = hi < 0 ? -1 : hex_digit((unsigned char)text[1]);
        if (lo < 0 || n == TLS_FINGERPRINT_LEN)
            return -1;
        md[n++] = (unsigned char)(hi << 4 | lo);
        text += 2;
    }
    return n == TLS_FINGERPRINT_LEN ? 0 : -1;
}

void tls_fingerprint_format(const unsigned char md[TLS_FINGERPRINT_LEN], char *out)
{
    size_t i;

    memcpy(out, "SHA256:", 7);
    for (i = 0; i < TLS_FINGERPRINT_LEN; i++)
        snprintf(out + 7 + i * 3, 4, "%02X%s", md[i], i + 1 < TLS_FINGERPRINT_LEN ? ":" : "");
}

static bool cert_fingerprint(X509 *cert, unsigned char md[TLS_FINGERPRINT_LEN])
{
    unsigned int n = 0;

    return X509_digest(cert, EVP_sha256(), md, &n) == 1 && n == TLS_FINGERPRINT_LEN;
}

/* --- the BIO: OpenSSL's reads and writes, as socklab's own (traced) socket calls -------- */

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
};

static int bio_write(BIO *b, const char *data, size_t len, size_t *done)
{
    struct bio_state *st = BIO_get_data(b);
    ssize_t n = sock_send(st->fd, data, len);

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
    ssize_t n = sock_recv(st->fd, data, len);

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

/* The largest datagram the path takes, as the kernel knows it (IP_MTU of a connected UDP
 * socket), less the IP and UDP headers; 0 when it does not know. */
static long path_mtu(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int mtu = 0;
    socklen_t mlen = sizeof mtu;

    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return 0;
    if (ss.ss_family == AF_INET6) {
        if (getsockopt(fd, IPPROTO_IPV6, IPV6_MTU, &mtu, &mlen) < 0)
            return 0;
        return mtu > 48 ? mtu - 48 : 0;
    }
    if (getsockopt(fd, IPPROTO_IP, IP_MTU, &mtu, &mlen) < 0)
        return 0;
    return mtu > 28 ? mtu - 28 : 0;
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
        socklen_t len = (socklen_t)num;

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

static BIO *bio_for(int fd, bool datagram)
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
static void trace_record(const struct extra *x, bool sent, int len)
{
    char what[80];

    snprintf(what, sizeof what, "application data, encrypted: %d bytes", len);
    trace_tls(x->fd, sent, what);
}

/* A record header (type 23, length len) or, in TLS 1.3, a record's inner type: once both
 * are known, a record that really holds application data is traced. */
static void record_seen(SSL *ssl, struct extra *x, bool sent, int len, int inner)
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
    struct extra *x = SSL_get_app_data(ssl);
    char what[160];

    (void)version;
    (void)arg;
    if (type == SSL3_RT_ALERT && !sent && len >= 2)
        x->alert_in = p[1];
    if (!net_trace_on())
        return;
    switch (type) {
    case SSL3_RT_HANDSHAKE:
        if (len == 0)
            return;
        snprintf(what, sizeof what, "%s", handshake_name(p[0]));
        break;
    case SSL3_RT_CHANGE_CIPHER_SPEC:
        snprintf(what, sizeof what, "ChangeCipherSpec");
        break;
    case SSL3_RT_ALERT:
        if (len < 2)
            return;
        snprintf(what, sizeof what, "alert: %s", SSL_alert_desc_string_long(p[1]));
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

/* --- certificates ---------------------------------------------------------------------------- */

/* A fresh key and a certificate for it, signed by itself, for localhost and both loopbacks. */
static int make_self_signed(SSL_CTX *ctx, X509 **out)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *cert = X509_new();
    X509_NAME *name;
    X509_EXTENSION *san = NULL;
    X509V3_CTX v3;
    int ok = 0;

    if (key == NULL || cert == NULL)
        goto out;
    name = X509_get_subject_name(cert);
    if (!X509_set_version(cert, 2) ||
        !ASN1_INTEGER_set_int64(X509_get_serialNumber(cert), (int64_t)(net_now_ms() * 1000)) ||
        X509_gmtime_adj(X509_getm_notBefore(cert), -60) == NULL ||
        X509_gmtime_adj(X509_getm_notAfter(cert), SELF_SIGNED_DAYS * 86400L) == NULL ||
        !X509_set_pubkey(cert, key) ||
        !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                    (const unsigned char *)"socklab self-signed", -1, -1, 0) ||
        !X509_set_issuer_name(cert, name))
        goto out;
    X509V3_set_ctx(&v3, cert, cert, NULL, NULL, 0);
    san = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1");
    if (san == NULL || !X509_add_ext(cert, san, -1) || !X509_sign(cert, key, EVP_sha256()))
        goto out;
    if (SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1)
        goto out;
    *out = cert;
    cert = NULL;
    ok = 1;
out:
    X509_EXTENSION_free(san);
    X509_free(cert);
    EVP_PKEY_free(key);
    return ok ? 0 : -1;
}

/* A key file must not ask for a passphrase on the terminal: say it cannot be read instead. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

/* Certificate (and the chain after it) and key from PEM files, for flag names in errors. */
static int load_identity(SSL_CTX *ctx, const char *cert_file, const char *key_file,
                         const char *cert_flag, const char *key_flag, X509 **leaf,
                         struct net_error *err)
{
    FILE *fp = fopen(cert_file, "r");
    EVP_PKEY *key;
    X509 *cert, *more;

    if (fp == NULL)
        return net_err_errno(err, errno, "cannot read %s %s", cert_flag, cert_file);
    cert = PEM_read_X509(fp, NULL, no_passphrase, NULL);
    if (cert == NULL || SSL_CTX_use_certificate(ctx, cert) != 1) {
        fclose(fp);
        X509_free(cert);
        return net_err_words(err, NET_ERR_USAGE,
                             "not a PEM certificate (-----BEGIN CERTIFICATE-----)", "%s %s",
                             cert_flag, cert_file);
    }
    while ((more = PEM_read_X509(fp, NULL, no_passphrase, NULL)) != NULL)
        SSL_CTX_add0_chain_cert(ctx, more);
    ERR_clear_error(); /* the end of the file, read as "no start line" */
    fclose(fp);

    if ((fp = fopen(key_file, "r")) == NULL) {
        X509_free(cert);
        return net_err_errno(err, errno, "cannot read %s %s", key_flag, key_file);
    }
    key = PEM_read_PrivateKey(fp, NULL, no_passphrase, NULL);
    fclose(fp);
    if (key == NULL || SSL_CTX_use_PrivateKey(ctx, key) != 1) {
        EVP_PKEY_free(key);
        X509_free(cert);
        ERR_clear_error();
        return net_err_words(err, NET_ERR_USAGE,
                             "not an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----)",
                             "%s %s", key_flag, key_file);
    }
    EVP_PKEY_free(key);
    if (SSL_CTX_check_private_key(ctx) != 1) {
        X509_free(cert);
        ERR_clear_error();
        return net_err_words(err, NET_ERR_USAGE, "the key is not the certificate's",
                             "%s %s and %s %s", cert_flag, cert_file, key_flag, key_file);
    }
    *leaf = cert;
    return 0;
}

/* The CA certificates in file become what this side trusts. */
static int load_ca(SSL_CTX *ctx, const char *file, const char *flag, struct net_error *err)
{
    FILE *fp = fopen(file, "r");

    if (fp == NULL)
        return net_err_errno(err, errno, "cannot read %s %s", flag, file);
    fclose(fp);
    if (SSL_CTX_load_verify_locations(ctx, file, NULL) != 1) {
        ERR_clear_error();
        return net_err_words(err, NET_ERR_USAGE, "no PEM certificate in it", "%s %s", flag, file);
    }
    return 0;
}

/* --- settings for each side ----------------------------------------------------------------- */

static int new_ctx(struct tls_ctx *t, bool server, const struct tls_config *cfg,
                   struct net_error *err)
{
    const SSL_METHOD *method;

    memset(t, 0, sizeof *t);
    t->server = server;
    t->datagram = cfg->datagram;
    if (cfg->datagram)
        method = server ? DTLS_server_method() : DTLS_client_method();
    else
        method = server ? TLS_server_method() : TLS_client_method();
    t->ssl_ctx = SSL_CTX_new(method);
    if (t->ssl_ctx == NULL)
        return net_err_errno(err, ENOMEM, "cannot set up %s", cfg->datagram ? "DTLS" : "TLS");
    /* TLS 1.2 and 1.3 (1.3 whenever the peer has it); DTLS 1.2, all OpenSSL 3.0 offers */
    SSL_CTX_set_min_proto_version(t->ssl_ctx, cfg->datagram ? DTLS1_2_VERSION : TLS1_2_VERSION);
    /* retried sends may come from a buffer that moved, and may be taken in part, as send() */
    SSL_CTX_set_mode(t->ssl_ctx,
                     SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    /* a FIN without close_notify ends the stream as it does without TLS */
    SSL_CTX_set_options(t->ssl_ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_app_data(t->ssl_ctx, t);
    return 0;
}

int tls_server_ctx(struct tls_ctx *t, const struct tls_config *cfg, struct net_error *err)
{
    unsigned char md[TLS_FINGERPRINT_LEN];
    X509 *cert = NULL;
    int rc;

    if (new_ctx(t, true, cfg, err) < 0)
        return -1;
    if (cfg->cert != NULL)
        rc = load_identity(t->ssl_ctx, cfg->cert, cfg->key != NULL ? cfg->key : cfg->cert, "--cert",
                           cfg->key != NULL ? "--key" : "--cert", &cert, err);
    else if ((rc = make_self_signed(t->ssl_ctx, &cert)) < 0)
        net_err_errno(err, ENOMEM, "cannot make a self-signed certificate");
    t->self_signed = cfg->cert == NULL;
    if (rc == 0 && !cert_fingerprint(cert, md))
        rc = net_err_errno(err, ENOMEM, "cannot compute the certificate's fingerprint");
    X509_free(cert);
    if (rc < 0) {
        tls_ctx_free(t);
        return -1;
    }
    tls_fingerprint_format(md, t->fingerprint);
    /* sessions resume only where they were made */
    SSL_CTX_set_session_id_context(t->ssl_ctx, (const unsigned char *)"socklab", 7);
    if (cfg->client_ca != NULL) {
        STACK_OF(X509_NAME) * names;

        if (load_ca(t->ssl_ctx, cfg->client_ca, "--client-ca", err) < 0) {
            tls_ctx_free(t);
            return -1;
        }
        /* tell clients which CA's certificates are welcome */
        if ((names = SSL_load_client_CA_file(cfg->client_ca)) != NULL)
            SSL_CTX_set_client_CA_list(t->ssl_ctx, names);
        SSL_CTX_set_verify(t->ssl_ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
        t->clients_verified = true;
    }
    return 0;
}

/* With --fingerprint, the server's own certificate (depth 0) must be the pinned one; who
 * signed it does not matter. */
static int check_pin(int preverified, X509_STORE_CTX *store)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    const struct tls_ctx *t = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
    struct extra *x = SSL_get_app_data(ssl);
    unsigned char md[TLS_FINGERPRINT_LEN];

    (void)preverified;
    if (X509_STORE_CTX_get_error_depth(store) > 0)
        return 1;
    if (cert_fingerprint(X509_STORE_CTX_get_current_cert(store), md)) {
        if (memcmp(md, t->pin, sizeof md) == 0)
            return 1;
        tls_fingerprint_format(md, x->seen);
    }
    x->pin_failed = true;
    X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
    return 0;
}

int tls_client_ctx(struct tls_ctx *t, const struct tls_config *cfg, struct net_error *err)
{
    X509 *cert = NULL;

    if (new_ctx(t, false, cfg, err) < 0)
        return -1;
    t->insecure = cfg->insecure;
    if (cfg->insecure) {
        SSL_CTX_set_verify(t->ssl_ctx, SSL_VERIFY_NONE, NULL);
    } else if (cfg->fingerprint != NULL) {
        if (tls_fingerprint_parse(cfg->fingerprint, t->pin) < 0) {
            tls_ctx_free(t);
            return net_err_words(err, NET_ERR_USAGE,
                                 "expected SHA256: and 32 bytes in hex, as the server prints it",
                                 "--fingerprint %s", cfg->fingerprint);
        }
        t->pinned = true;
        SSL_CTX_set_verify(t->ssl_ctx, SSL_VERIFY_PEER, check_pin);
    } else {
        SSL_CTX_set_verify(t->ssl_ctx, SSL_VERIFY_PEER, NULL);
        if (cfg->ca == NULL)
            SSL_CTX_set_default_verify_paths(t->ssl_ctx); /* the system's CAs, as a browser */
        else if (load_ca(t->ssl_ctx, cfg->ca, "--ca", err) < 0) {
            tls_ctx_free(t);
            return -1;
        }
    }
    if (cfg->client_cert != NULL) {
        if (load_identity(
                t->ssl_ctx, cfg->client_cert,
                cfg->client_key != NULL ? cfg->client_key : cfg->client_cert, "--client-cert",
                cfg->client_key != NULL ? "--client-key" : "--client-cert", &cert, err) < 0) {
            tls_ctx_free(t);
            return -1;
        }
        X509_free(cert);
    }
    return 0;
}

void tls_ctx_free(struct tls_ctx *t)
{
    SSL_CTX_free(t->ssl_ctx);
    t->ssl_ctx = NULL;
}

/* --- sessions ------------------------------------------------------------------------------ */

static bool is_ip_literal(const char *host)
{
    unsigned char buf[sizeof(struct in6_addr)];

    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

SSL *tls_session(struct tls_ctx *t, int fd, const char *host, struct net_error *err)
{
    struct extra *x = calloc(1, sizeof *x);
    SSL *ssl = SSL_new(t->ssl_ctx);
    BIO *bio = bio_for(fd, t->datagram);

    if (x == NULL || ssl == NULL || bio == NULL) {
        free(x);
        SSL_free(ssl);
        BIO_free(bio);
        net_err_errno(err, ENOMEM, "cannot start a %s session", t->datagram ? "DTLS" : "TLS");
        return NULL;
    }
    x->fd = fd;
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

void tls_session_free(SSL *ssl)
{
    if (ssl == NULL)
        return;
    free(SSL_get_app_data(ssl));
    SSL_free(ssl);
}

/* Why the server's certificate was not believed, in words. */
static int not_believed(SSL *ssl, long verdict, struct net_error *err)
{
    const struct extra *x = SSL_get_app_data(ssl);

    switch (verdict) {
    case X509_V_ERR_APPLICATION_VERIFICATION:
        if (!x->pin_failed)
            break;
        snprintf(err->detail, sizeof err->detail,
                 "its certificate is %s, not the one --fingerprint pins", x->seen);
        err->kind = NET_ERR_PROTOCOL;
        err->hint = "another server answers at that address, or this one made a new "
                    "certificate (it does at every start without --cert)";
        return -1;
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
        err->kind = NET_ERR_PROTOCOL;
        snprintf(err->detail, sizeof err->detail,
                 "its certificate is not signed by a CA you trust (%s)",
                 X509_verify_cert_error_string(verdict));
        err->hint = "pin the fingerprint the server printed (--fingerprint), or name its CA "
                    "(--ca); --insecure believes any server";
        return -1;
    case X509_V_ERR_CERT_HAS_EXPIRED:
        err->kind = NET_ERR_PROTOCOL;
        snprintf(err->detail, sizeof err->detail, "its certificate has expired");
        err->hint = "the server needs a new certificate (check both machines' clocks too)";
        return -1;
    case X509_V_ERR_CERT_NOT_YET_VALID:
        err->kind = NET_ERR_PROTOCOL;
        snprintf(err->detail, sizeof err->detail, "its certificate is not valid yet");
        err->hint = "check both machines' clocks";
        return -1;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
        err->kind = NET_ERR_PROTOCOL;
        snprintf(err->detail, sizeof err->detail,
                 "its certificate is for another name than the one you asked for");
        err->hint = "connect with a name the certificate lists (openssl x509 -noout -ext "
                    "subjectAltName -in CERT shows them)";
        return -1;
    default:
        break;
    }
    err->kind = NET_ERR_PROTOCOL;
    snprintf(err->detail, sizeof err->detail, "its certificate was not believed: %s",
             X509_verify_cert_error_string(verdict));
    return -1;
}

/* The TLS alert record for "unexpected message" (RFC 8446, 6): what a server says to a client
 * whose first bytes are not a TLS record. */
static const unsigned char plain_alert[] = {
    SSL3_RT_ALERT, 3, 3, 0, 2, SSL3_AL_FATAL, SSL3_AD_UNEXPECTED_MESSAGE};

bool tls_is_alert(const void *buf, size_t len)
{
    const unsigned char *p = buf;

    return len >= 7 && p[0] == SSL3_RT_ALERT && p[1] == 3 && p[2] <= 4 && p[3] == 0 && p[4] == 2;
}

/* A client that does not speak TLS: send it the alert, which OpenSSL does not send here, so
 * that it can tell what it reached. */
static void refuse_plain(int fd)
{
    sock_send(fd, plain_alert, sizeof plain_alert);
}

/* A server ends a failed handshake: what the client sent and we did not read is read away,
 * so that the close is a FIN, and the alert before it reaches the client (unread bytes at
 * close() make a reset, which can overtake it). */
static void drain(int fd)
{
    char sink[4096];

    for (int i = 0; i < 16 && recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0; i++)
        ;
}

/* The handshake failed: say why, as a user can act on it. */
static int handshake_failed(SSL *ssl, int code, struct net_error *err)
{
    const struct bio_state *st = BIO_get_data(SSL_get_rbio(ssl));
    bool server = SSL_is_server(ssl);
    const char *peer = server ? "the client" : "the server";
    unsigned long e = ERR_peek_last_error();
    int reason = ERR_GET_REASON(e);
    long verdict = SSL_get_verify_result(ssl);
    int saved = errno;

    ERR_clear_error();
    if (server && !SSL_is_dtls(ssl))
        drain(SSL_get_fd(ssl));
    snprintf(err->what, sizeof err->what, "%s handshake", SSL_is_dtls(ssl) ? "DTLS" : "TLS");
    err->hint = NULL;
    err->code = 0;
    if (!server && !st->in_differs && st->in_compared >= ECHO_MIN) {
        err->kind = NET_ERR_PROTOCOL;
        snprintf(err->detail, sizeof err->detail,
                 "the server sent our own ClientHello back: it is a plain echo server");
        err->hint = "leave out --tls, or start the server with --tls";
        return -1;
    }
    if (!server && verdict != X509_V_OK)
        return not_believed(ssl, verdict, err);
    /* every TLS peer's first record is a handshake record: anything else is another protocol */
    if (st->first_in >= 0 && st->first_in != SSL3_RT_HANDSHAKE) {
        err->kind = NET_ERR_PROTOCOL;
        snprintf(err->detail, sizeof err->detail, "%s does not speak %s", peer,
                 SSL_is_dtls(ssl) ? "DTLS" : "TLS");
        err->hint = server ? NULL : "leave out --tls, or start the server with --tls";
        if (server && !SSL_is_dtls(ssl))
            refuse_plain(SSL_get_fd(ssl));
        return -1;
    }
    if (code == SSL_ERROR_SYSCALL && e == 0) {
        if (saved != 0) {
            err->kind = NET_ERR_ERRNO;
            err->code = saved;
            return -1;
        }
        err->kind = NET_ERR_PROTOCOL;
        snprintf(err->detail, sizeof err->detail, "%s closed the connection in the middle of it",
                 peer);
        if (!server)
            err->hint = "a server with --client-ca closes on a client without a certificate "
                        "(--client-cert), one with --allow on a client it does not name";
        return -1;
    }
    err->kind = NET_ERR_PROTOCOL;
    switch (reason) {
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_PACKET_LENGTH_TOO_LONG:
    case SSL_R_UNEXPECTED_RECORD:
    case SSL_R_RECORD_LENGTH_MISMATCH:
        snprintf(err->detail, sizeof err->detail, "%s does not speak this version of %s", peer,
                 SSL_is_dtls(ssl) ? "DTLS" : "TLS");
        return -1;
    case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
    case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
        snprintf(err->detail, sizeof err->detail, "%s",
                 server ? "the client sent no certificate"
                        : "the server wants a client certificate");
        err->hint = server ? NULL : "give one with --client-cert and --client-key";
        return -1;
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
        snprintf(err->detail, sizeof err->detail, "%s did not accept our certificate", peer);
        return -1;
    case SSL_R_CERTIFICATE_VERIFY_FAILED:
        snprintf(err->detail, sizeof err->detail, "%s's certificate was not accepted: %s",
                 server ? "the client" : "the server", X509_verify_cert_error_string(verdict));
        return -1;
    default:
        snprintf(err->detail, sizeof err->detail, "%s",
                 e != 0 ? ERR_reason_error_string(e) : "the handshake failed");
        return -1;
    }
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
    return handshake_failed(ssl, code, err);
}

int tls_handshake(SSL *ssl, int timeout_ms, struct net_error *err)
{
    double deadline = net_now_ms() + timeout_ms;
    struct extra *x = SSL_get_app_data(ssl);

    for (;;) {
        bool want_write = false;
        struct pollfd pfd = {.fd = x->fd};
        struct timeval tv;
        int wait_ms = timeout_ms < 0 ? -1 : (int)(deadline - net_now_ms());
        int rc = tls_handshake_step(ssl, &want_write, err);

        if (rc != 0)
            return rc < 0 ? -1 : 0;
        if (timeout_ms >= 0 && wait_ms <= 0)
            return net_err_words(err, NET_ERR_TIMEOUT, "the peer did not finish it in time",
                                 "%s handshake", SSL_is_dtls(ssl) ? "DTLS" : "TLS");
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

SSL *tls_connect(struct tls_ctx *t, int fd, const char *host, const char *name, int timeout_ms,
                 struct net_error *err)
{
    SSL *ssl = tls_session(t, fd, host, err);

    if (ssl == NULL)
        return NULL;
    if (tls_handshake(ssl, timeout_ms, err) < 0) {
        snprintf(err->what, sizeof err->what, "%s handshake with %s", t->datagram ? "DTLS" : "TLS",
                 name);
        tls_session_free(ssl);
        return NULL;
    }
    return ssl;
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

bool tls_refusal(SSL *ssl, char *buf, size_t size)
{
    struct extra *x = SSL_get_app_data(ssl);
    struct pollfd pfd = {.fd = x->fd, .events = POLLIN};
    char scratch[256];
    size_t n;

    /* an alert may wait unread behind the failure (TLS 1.3 refuses a client after its
     * handshake has finished on its side): read it, so that it can be named */
    for (int i = 0; i < 4 && x->alert_in < 0 && poll(&pfd, 1, 0) == 1; i++)
        if (SSL_read_ex(ssl, scratch, sizeof scratch, &n) != 1)
            break;
    ERR_clear_error();
    switch (x->alert_in) {
    case -1:
        return false;
    case SSL3_AD_CLOSE_NOTIFY:
        return false;
    case TLS13_AD_CERTIFICATE_REQUIRED:
    case SSL3_AD_HANDSHAKE_FAILURE:
        snprintf(buf, size, "the server wants a client certificate (alert: %s)",
                 SSL_alert_desc_string_long(x->alert_in));
        return true;
    case SSL3_AD_BAD_CERTIFICATE:
    case TLS1_AD_UNKNOWN_CA:
    case SSL3_AD_CERTIFICATE_UNKNOWN:
    case SSL3_AD_CERTIFICATE_EXPIRED:
        snprintf(buf, size, "the server did not accept our certificate (alert: %s)",
                 SSL_alert_desc_string_long(x->alert_in));
        return true;
    default:
        snprintf(buf, size, "the server ended the session with the alert '%s'",
                 SSL_alert_desc_string_long(x->alert_in));
        return true;
    }
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

ssize_t net_send(int fd, SSL *tls, const void *buf, size_t len)
{
    return tls != NULL ? tls_send(tls, buf, len) : sock_send(fd, buf, len);
}

ssize_t net_recv(int fd, SSL *tls, void *buf, size_t len)
{
    return tls != NULL ? tls_recv(tls, buf, len) : sock_recv(fd, buf, len);
}

int net_shutdown_write(int fd, SSL *tls)
{
    if (tls != NULL)
        tls_close_notify(tls); /* TLS's own "that was all", which a FIN alone cannot prove */
    return sock_shutdown(fd, SHUT_WR);
}

void tls_describe(SSL *ssl, char *buf, size_t size)
{
    const struct tls_ctx *t = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
    X509 *cert = SSL_get0_peer_certificate(ssl);
    unsigned char md[TLS_FINGERPRINT_LEN];
    char fp[TLS_FINGERPRINT_TEXT] = "none";
    char name[128];
    const char *how;

    if (cert != NULL && cert_fingerprint(cert, md))
        tls_fingerprint_format(md, fp);
    if (t->server)
        how = tls_peer_name(ssl, name, sizeof name) ? name : NULL;
    else
        how = t->insecure ? "NOT checked (--insecure)"
              : t->pinned ? "pinned by --fingerprint"
                          : "signed by a trusted CA, for the name asked";
    if (t->server && how == NULL)
        snprintf(buf, size, "%s, %s", tls_version_name(ssl), SSL_get_cipher_name(ssl));
    else if (t->server)
        snprintf(buf, size, "%s, %s, the client's certificate %s: %s", tls_version_name(ssl),
                 SSL_get_cipher_name(ssl), fp, how);
    else
        snprintf(buf, size, "%s, %s, the server's certificate %s: %s", tls_version_name(ssl),
                 SSL_get_cipher_name(ssl), fp, how);
}

const char *tls_version_name(SSL *ssl)
{
    switch (SSL_version(ssl)) {
    case TLS1_3_VERSION:
        return "TLS 1.3";
    case TLS1_2_VERSION:
        return "TLS 1.2";
    case DTLS1_2_VERSION:
        return "DTLS 1.2";
    case DTLS1_VERSION:
        return "DTLS 1.0";
    default:
        return SSL_get_version(ssl);
    }
}

bool tls_peer_name(SSL *ssl, char *buf, size_t size)
{
    X509 *cert = SSL_get0_peer_certificate(ssl);

    if (cert == NULL || size == 0)
        return false;
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buf, (int)size) < 0)
        snprintf(buf, size, "(a certificate with no common name)");
    return true;
}
