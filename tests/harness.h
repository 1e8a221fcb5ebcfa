/* harness.h - run the real programs from a test: start servers, run clients, collect output. */
#ifndef SOCKLAB_HARNESS_H
#define SOCKLAB_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* What a finished process left behind. */
struct h_result {
    int status; /* exit status, or 128 + signal */
    char *out;  /* stdout, NUL-terminated (may hold other NULs: see outlen) */
    size_t outlen;
    char *err; /* stderr, NUL-terminated */
    size_t errlen;
};

/* A server started in the background, and the port it reported on its first line. */
struct h_server {
    pid_t pid;
    int out_fd, err_fd;
    uint16_t port;
    char first_line[256];
};

/* Path of tcp-echo or udp-echo, from the TCP_ECHO / UDP_ECHO environment variables. */
const char *h_prog(const char *name);

/* Start argv (NULL-terminated) in the background and wait for its first line of stdout. */
int h_start(struct h_server *s, char *const argv[]);
/* Start argv (NULL-terminated) and wait for its first line of stdout, which must name the
 * port it listens on ("listening on 127.0.0.1:40123 (tcp)" or the --json form). */
int h_server_start(struct h_server *s, char *const argv[]);
/* Read the server's next line of stdout, waiting at most timeout_ms; -1 on timeout. */
int h_next_line(struct h_server *s, char *line, size_t size, int timeout_ms);
/* Send sig, wait for exit (at most timeout_ms, then SIGKILL) and collect the rest of its
 * output. */
int h_server_stop(struct h_server *s, int sig, int timeout_ms, struct h_result *res);
/* Wait for a server to exit by itself (e.g. --once); -1 if it is still running after
 * timeout_ms (it is then killed). */
int h_server_wait(struct h_server *s, int timeout_ms, struct h_result *res);

/* Run argv to completion with in/inlen as stdin (or in_path's contents when in_path is not
 * NULL); kill it after timeout_ms. Returns 0 when it ran, -1 when it could not start or
 * timed out. */
int h_run(char *const argv[], const void *in, size_t inlen, const char *in_path, int timeout_ms,
          struct h_result *res);

void h_result_free(struct h_result *res);

/* cmocka checks: argv exits 0 printing exactly out (outlen bytes) when fed in. */
void h_expect_output(char *const argv[], const void *in, size_t inlen, const void *out,
                     size_t outlen);
/* cmocka checks: each of n argument lists (after the program) exits 2 with exactly one
 * line on stderr starting "NAME: ". */
void h_expect_usage_errors(const char *prog, const char *name, char *const cases[][6], size_t n);

/* Connect a socket of type (SOCK_STREAM / SOCK_DGRAM) to host:port; -1 on failure. */
int h_connect(const char *host, uint16_t port, int type);
/* A socket of type bound to host:port (port 0: any), for tests that need a chosen source. */
int h_bound(const char *host, uint16_t port, int type);
/* Connect an existing socket (one bound by h_bound, say) to host:port; -1 on failure. */
int h_aim(int fd, const char *host, uint16_t port);
/* Set a receive timeout so no test can hang on a socket. */
void h_timeout(int fd, int ms);

/* Fill buf with deterministic pseudo-random bytes (NULs included). */
void h_fill(void *buf, size_t len, uint32_t seed);

/* A port that was free a moment ago on 127.0.0.1, for peers that cannot take port 0. */
uint16_t h_free_port(int type);
/* Try to bind [::1]:port as another program would (SO_REUSEADDR set, as many servers do);
 * 0 if that worked, else the errno (EADDRINUSE: held; EADDRNOTAVAIL: no ::1 here). */
int h_squat_loopback6(int type, uint16_t port);
/* Wait until something listens (TCP) or is bound (UDP) on port; -1 after timeout_ms. */
int h_wait_bound(uint16_t port, int type, int timeout_ms);
/* Start argv in the background with stdin, stdout and stderr on /dev/null. */
pid_t h_spawn_quiet(char *const argv[]);
/* Call in a forked child: it dies with the test process, so a failing test leaves nothing
 * running. */
void h_die_with_parent(void);
/* Kill and reap a background process. */
void h_kill(pid_t pid);

/* How many lines (newline characters) text holds. */
int h_lines(const char *text);

/* Find "key":<number> in a JSON line; -1 when absent. */
long long h_json_int(const char *text, const char *key);
/* The same for a decimal number; NAN when absent. */
double h_json_num(const char *text, const char *key);
/* The line of text that contains needle (copied into line), or NULL. */
char *h_line_with(const char *text, const char *needle, char *line, size_t size);

/* Shell: wait (up to 5 s) until process PID catches SIGUSR1 (bit 10 of SigCgt), so a signal
 * sent next cannot meet the default action of a client still starting. */
#define CAUGHT_USR1(pid)                                                                           \
    "for i in $(seq 500); do m=$(awk '/^SigCgt/ {print $2}' /proc/" pid "/status 2>/dev/null); "   \
    "[ -n \"$m\" ] && [ $((0x$m & 0x200)) -ne 0 ] && break; sleep 0.01; done; "

#endif
