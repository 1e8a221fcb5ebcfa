/* tlsbio.h - OpenSSL's reads and writes made as socklab's own socket calls (for tls.c). */
#ifndef SOCKLAB_TLSBIO_H
#define SOCKLAB_TLSBIO_H

#include <stdbool.h>

#include <sys/socket.h>

#include <openssl/bio.h>

/* A BIO for connected socket fd (a stream, or datagrams for DTLS); NULL without memory. */
BIO *tls_bio_new(int fd, bool datagram);
/* A DTLS server's BIO on its one unconnected socket, shared by every peer: it reads what
 * tls_bio_feed hands in and sends to that datagram's source. */
BIO *tls_bio_new_shared(int fd);
/* Hand a shared BIO the datagram just received from peer: its next read. */
void tls_bio_feed(BIO *b, const void *buf, size_t len, const struct sockaddr_storage *peer,
                  socklen_t peerlen);
/* The peer a shared BIO answers. */
void tls_bio_peer(BIO *b, const struct sockaddr_storage **peer, socklen_t *peerlen);
/* Did the peer's first bytes repeat ours: an echo server answering a ClientHello? */
bool tls_bio_echoed(BIO *b);
/* The first byte received, or -1: every TLS peer's is 22 (a handshake record). */
int tls_bio_first_byte(BIO *b);

#endif
