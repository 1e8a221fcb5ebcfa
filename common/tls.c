/* tls.c - who is who in TLS and DTLS: certificates, fingerprints, and what each side checks.
 *
 * A server's certificate comes from files or is made at start; a client believes it by a
 * pinned fingerprint, by a CA and the name asked for, or (--insecure) not at all; a server
 * with --client-ca asks clients for theirs. tlssession.c runs the sessions. */
#include "tls.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "clock.h"
#include "tlsbio.h"

/* A self-signed certificate made at start is good for this long (and from a minute ago, so
 * a peer whose clock is a little behind still accepts it). */
#define SELF_SIGNED_DAYS 30

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

bool tls_cert_fingerprint(X509 *cert, unsigned char md[TLS_FINGERPRINT_LEN])
{
    unsigned int n = 0;

    return X509_digest(cert, EVP_sha256(), md, &n) == 1 && n == TLS_FINGERPRINT_LEN;
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

/* DTLS's cookie (RFC 6347, 4.2.1): the server answers a first ClientHello with a
 * HelloVerifyRequest holding a cookie made from the client's address and port, and keeps
 * nothing; only a client that sends it back from there gets a session. A forged source
 * costs the server no memory, and gets a reply no larger than what it sent. */
static int make_cookie(SSL *ssl, unsigned char *cookie, unsigned int *len)
{
    const struct tls_ctx *t = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
    const struct sockaddr_storage *peer;
    socklen_t peerlen;

    tls_bio_peer(SSL_get_rbio(ssl), &peer, &peerlen);
    return HMAC(EVP_sha256(), t->cookie_key, sizeof t->cookie_key, (const unsigned char *)peer,
                peerlen, cookie, len) != NULL;
}

static int check_cookie(SSL *ssl, const unsigned char *cookie, unsigned int len)
{
    unsigned char want[EVP_MAX_MD_SIZE];
    unsigned int want_len = 0;

    return make_cookie(ssl, want, &want_len) && want_len == len &&
           CRYPTO_memcmp(want, cookie, len) == 0;
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
    if (rc == 0 && !tls_cert_fingerprint(cert, md))
        rc = net_err_errno(err, ENOMEM, "cannot compute the certificate's fingerprint");
    X509_free(cert);
    if (rc < 0) {
        tls_ctx_free(t);
        return -1;
    }
    tls_fingerprint_format(md, t->fingerprint);
    if (cfg->datagram) {
        if (RAND_bytes(t->cookie_key, sizeof t->cookie_key) != 1) {
            tls_ctx_free(t);
            return net_err_errno(err, EIO, "cannot make a key for DTLS's cookies");
        }
        SSL_CTX_set_cookie_generate_cb(t->ssl_ctx, make_cookie);
        SSL_CTX_set_cookie_verify_cb(t->ssl_ctx, check_cookie);
    }
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
    struct tls_extra *x = SSL_get_app_data(ssl);
    unsigned char md[TLS_FINGERPRINT_LEN];

    (void)preverified;
    if (X509_STORE_CTX_get_error_depth(store) > 0)
        return 1;
    if (tls_cert_fingerprint(X509_STORE_CTX_get_current_cert(store), md)) {
        if (memcmp(md, t->pin, sizeof md) == 0)
            return 1;
        tls_fingerprint_format(md, x->seen);
    }
    x->pin_failed = true;
    X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
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

/* --- what a session is, in words --------------------------------------------------------- */

void tls_facts_of(SSL *ssl, struct tls_facts *f)
{
    const struct tls_ctx *t = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
    X509 *cert = SSL_get0_peer_certificate(ssl);
    unsigned char md[TLS_FINGERPRINT_LEN];

    memset(f, 0, sizeof *f);
    f->version = tls_version_name(ssl);
    f->cipher = SSL_get_cipher_name(ssl);
    if (cert != NULL && tls_cert_fingerprint(cert, md))
        tls_fingerprint_format(md, f->fingerprint);
    if (t->server) {
        if (!tls_peer_name(ssl, f->name, sizeof f->name))
            f->name[0] = '\0';
        return;
    }
    f->checked = t->insecure ? "NOT checked (--insecure)"
                 : t->pinned ? "pinned by --fingerprint"
                             : "signed by a trusted CA, for the name asked";
}

void tls_describe(const struct tls_facts *f, char *buf, size_t size)
{
    if (f->checked != NULL)
        snprintf(buf, size, "%s, %s, the server's certificate %s: %s", f->version, f->cipher,
                 f->fingerprint, f->checked);
    else if (f->name[0] != '\0')
        snprintf(buf, size, "%s, %s, the client's certificate %s: %s", f->version, f->cipher,
                 f->fingerprint, f->name);
    else
        snprintf(buf, size, "%s, %s", f->version, f->cipher);
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
