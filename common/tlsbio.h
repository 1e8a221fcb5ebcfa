/* tlsbio.h - OpenSSL's reads and writes made as socklab's own socket calls (for tls.c). */
#ifndef SOCKLAB_TLSBIO_H
#define SOCKLAB_TLSBIO_H

#include <stdbool.h>

#include <openssl/bio.h>

/* A BIO for connected socket fd (a stream, or datagrams for DTLS); NULL without memory. */
BIO *tls_bio_new(int fd, bool datagram);
/* Did the peer's first bytes repeat ours: an echo server answering a ClientHello? */
bool tls_bio_echoed(BIO *b);
/* The first byte received, or -1: every TLS peer's is 22 (a handshake record). */
int tls_bio_first_byte(BIO *b);

#endif
