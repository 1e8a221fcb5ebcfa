/* tls.h - TLS for tcp-echo and DTLS for udp-echo, with OpenSSL 3.
 *
 * Who the server is, who the client is, and the records each step puts on the wire.
 * A server proves who it is with a certificate: one from --cert/--key, or a fresh
 * self-signed one made at start, whose SHA-256 fingerprint it prints so that a client can
 * pin it (--fingerprint), as ssh asks a user to compare a host key's. A client believes a
 * server only when its certificate is signed by a CA it was given (--ca) and names the host
 * it asked for, or matches the pinned fingerprint; --insecure believes anyone, and says so.
 * A server given --client-ca serves only clients with a certificate that CA signed, and
 * knows each by its certificate's name. */
#ifndef SOCKLAB_TLS_H
#define SOCKLAB_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "err.h"

/* OpenSSL's types, opaque here, so a file that only passes them on needs no OpenSSL header. */
typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;
typedef struct x509_st X509;
typedef struct ssl_session_st SSL_SESSION;

/* SHA-256 of a certificate (DER), and its text: "SHA256:" then 32 bytes as AB:CD:..., as
 * `openssl x509 -fingerprint -sha256` prints them. */
#define TLS_FINGERPRINT_LEN 32
#define TLS_FINGERPRINT_TEXT (7 + TLS_FINGERPRINT_LEN * 3)

/* What the command line says about TLS; every file name may be NULL. */
struct tls_config {
    bool datagram;           /* DTLS over UDP rather than TLS over TCP */
    const char *cert, *key;  /* server: its identity; NULL: a self-signed one made at start */
    const char *ca;          /* client: the CA that signs the server's certificate */
    const char *fingerprint; /* client: the server's certificate, pinned by SHA-256 */
    bool insecure;           /* client: believe any certificate */
    const char *client_cert, *client_key; /* client: its identity, for --client-ca */
    const char *client_ca;                /* server: serve only clients this CA signed */
};

/* One side's settings, shared by all its sessions (OpenSSL's SSL_CTX and what we add). */
struct tls_ctx {
    SSL_CTX *ssl_ctx;
    bool server, datagram, insecure, pinned, clients_verified;
    unsigned char pin[TLS_FINGERPRINT_LEN]; /* client: --fingerprint, when pinned */
    char fingerprint[TLS_FINGERPRINT_TEXT]; /* server: its own certificate's */
    bool self_signed;                       /* server: made at start, not read from files */
    unsigned char cookie_key[32];           /* DTLS server: what its cookies are made with */
};

/* What each session keeps beside it (tls.c, tlssession.c). */
struct tls_extra {
    int fd;
    bool dtls;
    /* TLS 1.3 sends every record as "application data" outside and names the real type
     * inside: a record's length and its inner type, by direction, until both are known */
    int record_len[2], inner_type[2];
    int alert_in;        /* the last alert received (its description), or -1 */
    bool cert_requested; /* client: the server asked for our certificate */
    bool pin_failed;
    char seen[TLS_FINGERPRINT_TEXT]; /* the certificate the peer showed, when pinning failed */
};

/* Parse a fingerprint as a user pastes it: "SHA256:AB:CD:...", or the 64 hex digits alone,
 * with or without colons, in either case. Returns 0, or -1 when it is not 32 bytes of hex. */
int tls_fingerprint_parse(const char *text, unsigned char md[TLS_FINGERPRINT_LEN]);
/* The text form of md, into out (TLS_FINGERPRINT_TEXT bytes). */
void tls_fingerprint_format(const unsigned char md[TLS_FINGERPRINT_LEN], char *out);
/* A certificate's fingerprint; false when it cannot be computed. */
bool tls_cert_fingerprint(X509 *cert, unsigned char md[TLS_FINGERPRINT_LEN]);

/* A server's settings: its certificate (read, or made), TLS 1.3 at least or DTLS 1.2, and
 * client certificates required when cfg names a client CA. 0, or -1 with err. */
int tls_server_ctx(struct tls_ctx *t, const struct tls_config *cfg, struct net_error *err);
/* A client's settings: how it checks the server (CA, pin, or --insecure) and its own
 * certificate if it has one. 0, or -1 with err. */
int tls_client_ctx(struct tls_ctx *t, const struct tls_config *cfg, struct net_error *err);
void tls_ctx_free(struct tls_ctx *t);

/* A session on connected socket fd; a client names the host it asked for (checked against
 * the certificate when verifying by CA). NULL with err when out of memory. */
SSL *tls_session(struct tls_ctx *t, int fd, const char *host, struct net_error *err);
void tls_session_free(SSL *ssl);
/* A DTLS server's session on its one socket, shared by every peer: each datagram is handed
 * in with tls_feed before the session reads it. NULL with err when out of memory. */
SSL *tls_session_shared(struct tls_ctx *t, int fd, struct net_error *err);
void tls_feed(SSL *ssl, const void *buf, size_t len, const struct sockaddr_storage *peer,
              socklen_t peerlen);
/* DTLS's cookie exchange on a fresh shared session, for the datagram just fed: 1 when it
 * was a ClientHello carrying a good cookie (the session then goes on with the handshake),
 * 0 when it was answered with a HelloVerifyRequest or dropped, keeping nothing. */
int tls_listen(SSL *ssl);

/* Run the handshake on a blocking or non-blocking socket: 1 done, 0 to be called again
 * when the socket is ready (*want_write says for which direction), -1 with err saying what
 * went wrong in words a user can act on (a certificate not trusted, a pin not matched, a
 * peer that does not speak TLS at all). */
int tls_handshake_step(SSL *ssl, bool *want_write, struct net_error *err);
/* The whole handshake on a socket, waiting at most timeout_ms (-1: no limit). */
int tls_handshake(SSL *ssl, int timeout_ms, struct net_error *err);

/* A client's session on connected socket fd, its handshake done within timeout_ms: the
 * session, or NULL with err (err->what names name, the server as the user knows it). */
SSL *tls_connect(struct tls_ctx *t, int fd, const char *host, const char *name, int timeout_ms,
                 struct net_error *err);

/* The same, offering an earlier session to resume (NULL: none): the server may skip the
 * certificate and the key exchange, and tls_resumed says whether it did. */
SSL *tls_connect_offering(struct tls_ctx *t, int fd, const char *host, const char *name,
                          int timeout_ms, SSL_SESSION *offer, struct net_error *err);
bool tls_resumed(SSL *ssl);
/* The session to offer next time (its tickets come after the handshake: take it once the
 * server has answered), or NULL; release it with tls_offer_free. */
SSL_SESSION *tls_offer_of(SSL *ssl);
void tls_offer_free(SSL_SESSION *offer);

/* As send() and recv() on the session's socket: bytes taken or given, 0 at the peer's
 * close_notify or FIN, or -1 with errno (EAGAIN when the socket is not ready, EPROTO when
 * the peer broke TLS, ECONNRESET ...). */
ssize_t tls_send(SSL *ssl, const void *buf, size_t len);
ssize_t tls_recv(SSL *ssl, void *buf, size_t len);
/* Decrypted bytes waiting inside the session: a poll() on the socket would not see them. */
bool tls_pending(SSL *ssl);
/* Send close_notify: the TLS way of saying "I have finished", before the socket's FIN. */
void tls_close_notify(SSL *ssl);

/* send(), recv() and shutdown(SHUT_WR) on a connected socket, through its session when tls
 * is not NULL (then shutdown first sends close_notify). As the socket calls: bytes, 0 at
 * the end of the stream, -1 with errno (EAGAIN, EINTR ...). */
ssize_t net_send(int fd, SSL *tls, const void *buf, size_t len);
ssize_t net_recv(int fd, SSL *tls, void *buf, size_t len);
/* A shutdown refused with ENOTCONN because the connection is gone already (a reset came
 * first) fails with the error pending on the socket instead, which says why. */
int net_shutdown_write(int fd, SSL *tls);
/* One datagram from connected socket fd, through its DTLS session when tls is not NULL: its
 * length, with *truncated set when it was longer than len (never with DTLS, whose records
 * carry their length), or -1 with errno (EAGAIN: nothing for the user yet). */
ssize_t net_recv_datagram(int fd, SSL *tls, void *buf, size_t len, bool *truncated);

/* How a session is secured, for -v and --json. */
struct tls_facts {
    const char *version;                    /* "TLS 1.3", "DTLS 1.2" */
    const char *cipher;                     /* "TLS_AES_256_GCM_SHA384" */
    char fingerprint[TLS_FINGERPRINT_TEXT]; /* the peer's certificate, or "" without one */
    const char *checked; /* client: how the server's was believed; server: NULL */
    char name[128];      /* server: the client's certificate's common name, or "" */
};
void tls_facts_of(SSL *ssl, struct tls_facts *f);
/* The facts as one line: "TLS 1.3, TLS_AES_256_GCM_SHA384, the server's certificate
 * SHA256:...: pinned by --fingerprint". */
void tls_describe(const struct tls_facts *f, char *buf, size_t size);

/* tlsfail.c: a failure in words */
/* The handshake failed (SSL_get_error's code): why, as the user can act on it, into err;
 * a server sends a client that does not speak TLS an alert that says so. Returns -1. */
int tls_handshake_failed(SSL *ssl, int code, struct net_error *err);
/* The time limit passed: whether the peer said nothing at all, or stopped half way. -1. */
int tls_handshake_timed_out(SSL *ssl, int timeout_ms, struct net_error *err);
/* After a send or receive failed on the session: the alert the peer sent, in words (reading
 * one that waits unread), into buf; false when it sent none. */
bool tls_refusal(SSL *ssl, char *buf, size_t size);
/* Do these bytes, the first a plain client received, start a TLS alert record? A --tls
 * server sends one to a client that does not speak TLS. */
bool tls_is_alert(const void *buf, size_t len);

/* "TLS 1.3" or "DTLS 1.2": what the session speaks, as the output names it. */
const char *tls_version_name(SSL *ssl);
/* The client's name (its certificate's common name), into buf; false when it sent none. */
bool tls_peer_name(SSL *ssl, char *buf, size_t size);

#endif
