/* ref-echo.c - the smallest echo servers worth measuring against: one epoll loop for TCP,
 * one recvfrom/sendto loop for UDP. No options, no counters, no policy: scripts/bench runs
 * them next to tcp-echo and udp-echo to show what socklab's servers cost on top. The one
 * setting it makes is TCP_NODELAY on each connection, as request/response servers do: with
 * Nagle's algorithm on, an echo of more than one read waits for the client's delayed ACK
 * (about 40 ms), and the reference would be as slow as what it is measured against.
 *
 * usage: ref-echo tcp|udp [PORT]   (listens on 127.0.0.1; PORT 0 or none: any free port) */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* Bind a socket of type to 127.0.0.1:port and print the line our servers print first. */
static int open_server(int type, unsigned port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET,
                              .sin_port = htons((uint16_t)port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sin;
    int fd = socket(AF_INET, type, 0), one = 1;

    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0 ||
        (type == SOCK_STREAM && listen(fd, 128) < 0) ||
        getsockname(fd, (struct sockaddr *)&sin, &len) < 0)
        return -1;
    printf("listening on 127.0.0.1:%u (%s)\n", ntohs(sin.sin_port),
           type == SOCK_STREAM ? "tcp" : "udp");
    fflush(stdout);
    return fd;
}

/* Send all of buf, waiting for room when the client's window is full. */
static int send_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

        if (n < 0 && errno == EAGAIN) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};

            poll(&p, 1, 1000);
            continue;
        }
        if (n < 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Level-triggered epoll: accept when the listener is ready, else one recv and its echo. */
static int serve_tcp(int lfd)
{
    static char buf[16384];
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd}, events[128];
    int ep = epoll_create1(0);

    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0)
        return -1;
    for (;;) {
        int n = epoll_wait(ep, events, 128, -1);

        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            ssize_t got;

            if (fd == lfd) {
                int c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK), one = 1;

                if (c < 0)
                    continue;
                setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                ev = (struct epoll_event){.events = EPOLLIN, .data.fd = c};
                if (epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev) < 0)
                    close(c);
                continue;
            }
            got = recv(fd, buf, sizeof buf, 0);
            if (got < 0 && errno == EAGAIN)
                continue;
            if (got <= 0 || send_all(fd, buf, (size_t)got) < 0)
                close(fd);
        }
    }
}

/* One datagram in, the same datagram back to where it came from. */
static int serve_udp(int fd)
{
    static char buf[65536];

    for (;;) {
        struct sockaddr_storage from;
        socklen_t len = sizeof from;
        ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &len);

        if (n < 0 && errno != EINTR && errno != ECONNREFUSED)
            return -1;
        if (n >= 0)
            sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, len);
    }
}

int main(int argc, char **argv)
{
    unsigned port = argc > 2 ? (unsigned)atoi(argv[2]) : 0;
    int tcp, fd;

    if (argc < 2 || (strcmp(argv[1], "tcp") != 0 && strcmp(argv[1], "udp") != 0) || port > 65535) {
        fprintf(stderr, "usage: ref-echo tcp|udp [PORT]\n");
        return 2;
    }
    tcp = strcmp(argv[1], "tcp") == 0;
    fd = open_server(tcp ? SOCK_STREAM : SOCK_DGRAM, port);
    if (fd < 0) {
        fprintf(stderr, "ref-echo: cannot listen: %s\n", strerror(errno));
        return 1;
    }
    return (tcp ? serve_tcp(fd) : serve_udp(fd)) < 0 ? 1 : 0;
}
