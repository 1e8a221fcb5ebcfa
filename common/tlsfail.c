/* tlsfail.c - why a TLS or DTLS handshake failed, in words a user can act on.
 *
 * OpenSSL names a failure by its reason code and the certificate check's verdict; these
 * say which of the user's checks failed (a pin, a CA, a name, a date), what the peer did (an
 * alert, a plain echo, silence), and what to do about it. */
#include "tls.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "sock.h"
#include "tlsbio.h"

/* Why the server's certificate was not believed, in words. */
static int not_believed(SSL *ssl, long verdict, struct net_error *err)
{
    const struct tls_extra *x = SSL_get_app_data(ssl);

    switch (verdict) {
    case X509_V_ERR_CERT_REJECTED:
        if (!x->pin_failed)
            break;
        snprintf(err->detail, sizeof err->detail,
                 "its certificate is %s, not the one --fingerprint pins", x->seen);
        err->kind = NET_ERR_PROTOCOL;
        err->hint = "another server answers at that address, or this one made a new "
                    "certificate: it does at every start without --cert";
        return -1;
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
        err->kind = NET_ERR_PROTOCOL;
        snprintf(err->detail, sizeof err->detail,
                 "its certificate is not signed by a CA you trust: %s",
                 X509_verify_cert_error_string(verdict));
        err->hint = "pin the fingerprint the server printed with --fingerprint, or name its "
                    "CA with --ca; --insecure believes any server";
        return -1;
    case X509_V_ERR_CERT_HAS_EXPIRED:
        err->kind = NET_ERR_PROTOCOL;
        snprintf(err->detail, sizeof err->detail, "its certificate has expired");
        err->hint = "the server needs a new certificate; check both machines' clocks too";
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
        err->hint = "connect with a name the certificate lists; openssl x509 -noout -ext "
                    "subjectAltName -in CERT shows them";
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

/* The handshake failed for the reason OpenSSL gives (e): say it as a user can act on it. */
static int by_reason(SSL *ssl, unsigned long e, long verdict, struct net_error *err)
{
    const struct tls_extra *x = SSL_get_app_data(ssl);
    bool server = SSL_is_server(ssl);
    const char *peer = server ? "the client" : "the server";

    err->kind = NET_ERR_PROTOCOL;
    switch (ERR_GET_REASON(e)) {
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_PACKET_LENGTH_TOO_LONG:
    case SSL_R_UNEXPECTED_RECORD:
    case SSL_R_RECORD_LENGTH_MISMATCH:
        snprintf(err->detail, sizeof err->detail, "%s does not speak this version of %s", peer,
                 SSL_is_dtls(ssl) ? "DTLS" : "TLS");
        return -1;
    case SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE:
        /* DTLS 1.2 (and TLS 1.2) say no more than this to a client that had no certificate */
        if (server || !x->cert_requested || SSL_get_certificate(ssl) != NULL)
            break;
        /* fall through */
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
        snprintf(err->detail, sizeof err->detail, "%s's certificate was not accepted: %s", peer,
                 X509_verify_cert_error_string(verdict));
        return -1;
    default:
        break;
    }
    snprintf(err->detail, sizeof err->detail, "%s",
             e != 0 ? ERR_reason_error_string(e) : "the handshake failed");
    return -1;
}

int tls_handshake_failed(SSL *ssl, int code, struct net_error *err)
{
    const struct tls_extra *x = SSL_get_app_data(ssl);
    BIO *bio = SSL_get_rbio(ssl);
    bool server = SSL_is_server(ssl);
    const char *peer = server ? "the client" : "the server";
    unsigned long e = ERR_peek_last_error();
    long verdict = SSL_get_verify_result(ssl);
    int saved = errno;

    ERR_clear_error();
    if (server && !SSL_is_dtls(ssl))
        drain(SSL_get_fd(ssl));
    snprintf(err->what, sizeof err->what, "%s handshake", SSL_is_dtls(ssl) ? "DTLS" : "TLS");
    err->hint = NULL;
    err->code = 0;
    if (!server && tls_bio_echoed(bio)) {
        err->kind = NET_ERR_PROTOCOL;
        snprintf(err->detail, sizeof err->detail,
                 "the server sent our own ClientHello back: it is a plain echo server");
        err->hint = "leave out --tls, or start the server with --tls";
        return -1;
    }
    /* (a pinned or --insecure client may have believed a certificate OpenSSL would not) */
    if (!server && verdict != X509_V_OK && SSL_get_verify_mode(ssl) != SSL_VERIFY_NONE &&
        (SSL_get_verify_callback(ssl) == NULL || x->pin_failed))
        return not_believed(ssl, verdict, err);
    /* every TLS peer's first record is a handshake record: anything else is another protocol */
    if (tls_bio_first_byte(bio) >= 0 && tls_bio_first_byte(bio) != SSL3_RT_HANDSHAKE) {
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
            err->hint = "a server with --client-ca closes on a client without --client-cert, "
                        "one with --allow on a client it does not name";
        return -1;
    }
    return by_reason(ssl, e, verdict, err);
}

int tls_handshake_timed_out(SSL *ssl, int timeout_ms, struct net_error *err)
{
    bool dtls = SSL_is_dtls(ssl);

    net_err_words(err, NET_ERR_TIMEOUT, "", "%s handshake", dtls ? "DTLS" : "TLS");
    if (tls_bio_first_byte(SSL_get_rbio(ssl)) >= 0) {
        snprintf(err->detail, sizeof err->detail, "the peer did not finish it within %g s",
                 timeout_ms / 1000.0);
        return -1;
    }
    snprintf(err->detail, sizeof err->detail, "no answer within %g s", timeout_ms / 1000.0);
    if (!SSL_is_server(ssl))
        err->hint = dtls ? "UDP hears nothing from a server that is not there or does not "
                           "speak DTLS, nor from one whose --allow leaves us out"
                         : "the server took the connection but said nothing: is it a TLS "
                           "server?";
    return -1;
}

bool tls_refusal(SSL *ssl, char *buf, size_t size)
{
    struct tls_extra *x = SSL_get_app_data(ssl);
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
    case TLS13_AD_CERTIFICATE_REQUIRED: /* TLS 1.3's, which OpenSSL 3.0 cannot name */
        snprintf(buf, size,
                 "the server wants a client certificate: it sent the alert "
                 "'certificate required'");
        return true;
    case SSL3_AD_HANDSHAKE_FAILURE:
        snprintf(buf, size, "the server wants a client certificate: it sent the alert '%s'",
                 SSL_alert_desc_string_long(x->alert_in));
        return true;
    case SSL3_AD_BAD_CERTIFICATE:
    case TLS1_AD_UNKNOWN_CA:
    case SSL3_AD_CERTIFICATE_UNKNOWN:
    case SSL3_AD_CERTIFICATE_EXPIRED:
        snprintf(buf, size, "the server did not accept our certificate: it sent the alert '%s'",
                 SSL_alert_desc_string_long(x->alert_in));
        return true;
    default:
        snprintf(buf, size, "the server ended the session with the alert '%s'",
                 SSL_alert_desc_string_long(x->alert_in));
        return true;
    }
}
