/* harness.c - process and socket plumbing for the integration tests. */
#include "harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A growing byte buffer. */
struct sink {
    char *data;
    size_t len, cap;
};

static void sink_add(struct sink *s, const char *buf, size_t n)
{
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;

        while (cap < s->len + n + 1)
            cap *= 2;
        s->data = realloc(s->data, cap);
        if (s->data == NULL)
            abort();
        s->cap = cap;
    }
    memcpy(s->data + s->len, buf, n);
    s->len += n;
    s->data[s->len] = '\0';
}

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

    nanosleep(&ts, NULL);
}

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

const char *h_prog(const char *name)
{
    const char *path = getenv(name);

    if (path == NULL) {
        fprintf(stderr, "harness: %s is not set (ctest sets it)\n", name);
        abort();
    }
    return path;
}

/* pipe() whose ends do not leak into the programs we start (a leaked write end would keep
 * a child's stdin from ever reaching EOF). */
static int cloexec_pipe(int fds[2])
{
    if (pipe(fds) < 0)
        return -1;
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    return 0;
}

/* In a child about to exec: die with the test process, so a test that fails half-way
 * (cmocka jumps out of it) never leaves a server running after the suite. */
void h_die_with_parent(void)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
}

/* fork/exec argv with stdin from in_fd and stdout/stderr into new pipes. */
static pid_t spawn(char *const argv[], int in_fd, int *out_fd, int *err_fd)
{
    int out[2], err[2];
    pid_t pid;

    if (cloexec_pipe(out) < 0 || cloexec_pipe(err) < 0)
        return -1;
    pid = fork();
    if (pid == 0) {
        h_die_with_parent();
        dup2(in_fd, STDIN_FILENO);
        dup2(out[1], STDOUT_FILENO);
        dup2(err[1], STDERR_FILENO);
        close(out[0]);
        close(err[0]);
        execv(argv[0], argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(out[1]);
    close(err[1]);
    *out_fd = out[0];
    *err_fd = err[0];
    return pid;
}

static int status_of(int wstatus)
{
    if (WIFEXITED(wstatus))
        return WEXITSTATUS(wstatus);
    return 128 + WTERMSIG(wstatus);
}

/* Pump stdin bytes in and stdout/stderr out until both outputs close or the deadline. */
static int pump(int in_fd, const char *in, size_t inlen, int out_fd, int err_fd, struct sink *out,
                struct sink *err, double deadline)
{
    size_t sent = 0;
    char buf[65536];

    if (in_fd >= 0 && inlen == 0) {
        close(in_fd);
        in_fd = -1;
    }
    while (out_fd >= 0 || err_fd >= 0) {
        struct pollfd p[3] = {{.fd = out_fd, .events = POLLIN},
                              {.fd = err_fd, .events = POLLIN},
                              {.fd = in_fd, .events = POLLOUT}};
        int left = (int)(deadline - now_ms());

        if (left <= 0)
            return -1;
        if (poll(p, 3, left) < 0 && errno != EINTR)
            return -1;
        for (int i = 0; i < 2; i++) {
            int *fd = i == 0 ? &out_fd : &err_fd;
            ssize_t n;

            if (*fd < 0 || !p[i].revents)
                continue;
            n = read(*fd, buf, sizeof buf);
            if (n > 0) {
                sink_add(i == 0 ? out : err, buf, (size_t)n);
            } else if (n == 0 || errno != EINTR) {
                close(*fd);
                *fd = -1;
            }
        }
        if (in_fd >= 0 && p[2].revents) {
            ssize_t n = write(in_fd, in + sent, inlen - sent);

            if (n > 0)
                sent += (size_t)n;
            if ((n < 0 && errno != EAGAIN) || sent == inlen) {
                close(in_fd);
                in_fd = -1;
            }
        }
    }
    if (in_fd >= 0)
        close(in_fd);
    return 0;
}

/* Wait for pid until the deadline; kill it when the deadline passes. */
static int reap(pid_t pid, double deadline, int *status)
{
    int wstatus;

    for (;;) {
        pid_t r = waitpid(pid, &wstatus, WNOHANG);

        if (r == pid) {
            *status = status_of(wstatus);
            return 0;
        }
        if (now_ms() >= deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &wstatus, 0);
            *status = status_of(wstatus);
            return -1;
        }
        sleep_ms(2);
    }
}

/* The collected output becomes the result's (the caller frees it with h_result_free). */
static void hand_over(struct h_result *res, struct sink *out, struct sink *err)
{
    res->out = out->data;
    res->outlen = out->len;
    res->err = err->data;
    res->errlen = err->len;
}

int h_run(char *const argv[], const void *in, size_t inlen, const char *in_path, int timeout_ms,
          struct h_result *res)
{
    double deadline = now_ms() + timeout_ms;
    struct sink out = {0}, err = {0};
    int in_pipe[2] = {-1, -1}, in_fd, out_fd, err_fd, rc;
    pid_t pid;

    sink_add(&out, "", 0);
    sink_add(&err, "", 0);
    if (in_path != NULL) {
        in_fd = open(in_path, O_RDONLY);
    } else {
        if (cloexec_pipe(in_pipe) < 0)
            return -1;
        in_fd = in_pipe[0];
    }
    pid = spawn(argv, in_fd, &out_fd, &err_fd);
    close(in_fd);
    if (pid < 0)
        return -1;
    /* non-blocking, so a child that stops reading stdin cannot stall the output pump */
    if (in_pipe[1] >= 0)
        fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);
    rc = pump(in_pipe[1], in, in_path ? 0 : inlen, out_fd, err_fd, &out, &err, deadline);
    if (reap(pid, deadline + 2000, &res->status) < 0)
        rc = -1;
    hand_over(res, &out, &err);
    return rc;
}

void h_result_free(struct h_result *res)
{
    free(res->out);
    free(res->err);
    res->out = res->err = NULL;
}

/* Read one line from fd, byte by byte (the rest stays in the pipe for later). */
static int read_line(int fd, char *line, size_t size, double deadline)
{
    size_t len = 0;

    while (len + 1 < size) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int left = (int)(deadline - now_ms());
        char c;

        if (left <= 0 || poll(&p, 1, left) <= 0)
            return -1;
        if (read(fd, &c, 1) != 1)
            return -1;
        if (c == '\n')
            break;
        line[len++] = c;
    }
    line[len] = '\0';
    return 0;
}

static uint16_t port_in(const char *line)
{
    const char *p = strstr(line, "\"port\":");

    if (p != NULL)
        return (uint16_t)atoi(p + 7);
    p = strrchr(line, ' '); /* "... 127.0.0.1:40123 (tcp)": the last colon before " (" */
    if (p == NULL)
        return 0;
    while (p > line && *p != ':')
        p--;
    return (uint16_t)atoi(p + 1);
}

int h_server_start(struct h_server *s, char *const argv[])
{
    if (h_start(s, argv) < 0)
        return -1;
    s->port = port_in(s->first_line);
    return s->port ? 0 : -1;
}

int h_start(struct h_server *s, char *const argv[])
{
    int devnull = open("/dev/null", O_RDONLY);

    memset(s, 0, sizeof *s);
    s->pid = spawn(argv, devnull, &s->out_fd, &s->err_fd);
    close(devnull);
    if (s->pid < 0)
        return -1;
    if (read_line(s->out_fd, s->first_line, sizeof s->first_line, now_ms() + 5000) < 0) {
        struct h_result res;

        h_server_stop(s, SIGKILL, 1000, &res);
        fprintf(stderr, "harness: %s printed no first line; stderr: %s\n", argv[0], res.err);
        h_result_free(&res);
        return -1;
    }
    return 0;
}

static int collect(struct h_server *s, double deadline, struct h_result *res)
{
    struct sink out = {0}, err = {0};
    int rc;

    sink_add(&out, "", 0);
    sink_add(&err, "", 0);
    rc = pump(-1, NULL, 0, s->out_fd, s->err_fd, &out, &err, deadline);
    if (reap(s->pid, deadline, &res->status) < 0)
        rc = -1;
    hand_over(res, &out, &err);
    return rc;
}

int h_server_stop(struct h_server *s, int sig, int timeout_ms, struct h_result *res)
{
    kill(s->pid, sig);
    return collect(s, now_ms() + timeout_ms, res);
}

int h_server_wait(struct h_server *s, int timeout_ms, struct h_result *res)
{
    return collect(s, now_ms() + timeout_ms, res);
}

static int make_socket(const char *host, uint16_t port, int type, bool do_connect)
{
    struct addrinfo hints = {.ai_socktype = type, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
    struct addrinfo *res;
    char service[8];
    int fd, one = 1;

    snprintf(service, sizeof service, "%u", (unsigned)port);
    if (getaddrinfo(host, service, &hints, &res) != 0)
        return -1;
    fd = socket(res->ai_family, type, 0);
    if (fd >= 0 && !do_connect)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd >= 0 && (do_connect ? connect(fd, res->ai_addr, res->ai_addrlen)
                               : bind(fd, res->ai_addr, res->ai_addrlen)) < 0) {
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd >= 0)
        h_timeout(fd, 5000);
    return fd;
}

int h_connect(const char *host, uint16_t port, int type)
{
    return make_socket(host, port, type, true);
}

int h_bound(const char *host, uint16_t port, int type)
{
    return make_socket(host, port, type, false);
}

void h_timeout(int fd, int ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

void h_fill(void *buf, size_t len, uint32_t seed)
{
    unsigned char *p = buf;
    uint32_t x = seed ? seed : 1;

    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (unsigned char)x;
    }
}

long long h_json_int(const char *text, const char *key)
{
    char pattern[64];
    const char *p;

    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    p = strstr(text, pattern);
    return p ? atoll(p + strlen(pattern)) : -1;
}

uint16_t h_free_port(int type)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sin;
    int fd = socket(AF_INET, type, 0);
    uint16_t port = 0;

    if (fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof sin) == 0 &&
        getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
        port = ntohs(sin.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

int h_squat_loopback6(int type, uint16_t port)
{
    struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
    int fd = socket(AF_INET6, type, 0), one = 1, rc;

    if (fd < 0)
        return errno;
    sin6.sin6_addr = in6addr_loopback;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    rc = bind(fd, (struct sockaddr *)&sin6, sizeof sin6) == 0 ? 0 : errno;
    close(fd);
    return rc;
}

/* True when /proc/net/FILE lists a socket on port in the given state (hex). */
static bool proc_has(const char *file, uint16_t port, const char *state)
{
    char path[64], line[512];
    bool found = false;
    FILE *fp;

    snprintf(path, sizeof path, "/proc/net/%s", file);
    fp = fopen(path, "r");
    if (fp == NULL)
        return false;
    while (!found && fgets(line, sizeof line, fp)) {
        char local[128], st[8];
        unsigned p;

        if (sscanf(line, "%*d: %127s %*s %7s", local, st) != 2)
            continue;
        if (sscanf(strchr(local, ':') + 1, "%x", &p) == 1 && p == port && strcmp(st, state) == 0)
            found = true;
    }
    fclose(fp);
    return found;
}

int h_wait_bound(uint16_t port, int type, int timeout_ms)
{
    double deadline = now_ms() + timeout_ms;
    const char *state = type == SOCK_STREAM ? "0A" : "07";

    while (now_ms() < deadline) {
        if (type == SOCK_STREAM && (proc_has("tcp", port, state) || proc_has("tcp6", port, state)))
            return 0;
        if (type == SOCK_DGRAM && (proc_has("udp", port, state) || proc_has("udp6", port, state)))
            return 0;
        sleep_ms(5);
    }
    return -1;
}

pid_t h_spawn_quiet(char *const argv[])
{
    pid_t pid = fork();

    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);

        h_die_with_parent();
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        dup2(null, STDERR_FILENO);
        execvp(argv[0], argv);
        _exit(127);
    }
    return pid;
}

void h_kill(pid_t pid)
{
    int status;

    if (pid <= 0)
        return;
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
}

int h_lines(const char *text)
{
    int n = 0;

    for (; *text; text++)
        n += *text == '\n';
    return n;
}

int h_aim(int fd, const char *host, uint16_t port)
{
    struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
    struct addrinfo *res;
    char service[8];
    int rc;

    snprintf(service, sizeof service, "%u", (unsigned)port);
    if (getaddrinfo(host, service, &hints, &res) != 0)
        return -1;
    rc = connect(fd, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return rc;
}

double h_json_num(const char *text, const char *key)
{
    char pattern[64];
    const char *p;

    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    p = strstr(text, pattern);
    return p ? strtod(p + strlen(pattern), NULL) : NAN;
}

char *h_line_with(const char *text, const char *needle, char *line, size_t size)
{
    const char *hit = strstr(text, needle), *start, *end;

    if (hit == NULL)
        return NULL;
    for (start = hit; start > text && start[-1] != '\n'; start--) {
    }
    end = strchr(hit, '\n');
    if (end == NULL)
        end = hit + strlen(hit);
    snprintf(line, size, "%.*s", (int)(end - start), start);
    return line;
}

int h_next_line(struct h_server *s, char *line, size_t size, int timeout_ms)
{
    return read_line(s->out_fd, line, size, now_ms() + timeout_ms);
}

void h_expect_output(char *const argv[], const void *in, size_t inlen, const void *out,
                     size_t outlen)
{
    struct h_result res;

    assert_int_equal(h_run(argv, in, inlen, NULL, 20000, &res), 0);
    if (res.status != 0)
        fail_msg("%s exited %d: %s", argv[0], res.status, res.err);
    assert_int_equal(res.outlen, outlen);
    assert_memory_equal(res.out, out, outlen);
    h_result_free(&res);
}

void h_expect_usage_errors(const char *prog, const char *name, char *const cases[][6], size_t n)
{
    size_t namelen = strlen(name);

    for (size_t i = 0; i < n; i++) {
        char *argv[8] = {(char *)prog};
        struct h_result res;

        for (size_t j = 0; j < 6 && cases[i][j]; j++)
            argv[j + 1] = cases[i][j];
        assert_int_equal(h_run(argv, NULL, 0, NULL, 5000, &res), 0);
        if (res.status != 2)
            fail_msg("case %zu exited %d, stderr: %s", i, res.status, res.err);
        assert_int_equal(strncmp(res.err, name, namelen), 0);
        assert_int_equal(strncmp(res.err + namelen, ": ", 2), 0);
        assert_int_equal(h_lines(res.err), 1);
        h_result_free(&res);
    }
}
