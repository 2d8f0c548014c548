// The benchmark's load client for TCP and Unix sockets alike (wrk cannot connect to a socket path): closed-loop HTTP/1.1.
//
// N keep-alive connections on one thread (epoll), each sending one GET and waiting for its whole response before
// the next, as `wrk -t1 -cN` does. Responses must carry Content-Length (every bench target sends it). Latency is
// from the request's send to the response's last byte, kept in 1 µs buckets up to 1 s. Prints one line in the
// format of bench/run's wrk Lua hook, so the harness reads both the same way:
//   BENCH requests=.. duration_us=.. connect=.. read=.. write=.. status=.. timeout=.. p50=.. p90=.. p99=.. p999=.. mean=.. max=..
//
//   load (--tcp HOST:PORT | --unix PATH) -c CONNECTIONS -d SECONDS -H HOST_HEADER PATH
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define BUCKETS 1000000 /* 1 µs each: 0 .. 1 s; slower responses land in the last one (and in max) */
#define REQUEST_TIMEOUT_NS 2000000000LL /* as wrk --timeout 2s */

struct conn {
    int fd;
    int64_t sent_at;   /* ns; 0 while no request is out */
    size_t head_len;   /* bytes of the current head seen so far (kept in head[] up to its size) */
    char head[4096];
    long long body_left; /* -1 while the head is incomplete */
};

static struct sockaddr_storage target;
static socklen_t target_len;
static int target_family;
static char request[1024];
static size_t request_len;
static uint32_t *histogram;
static long long completed, err_connect, err_read, err_write, err_status, err_timeout;
static long long sum_us, max_us;

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int open_conn(int ep, struct conn *c) {
    c->fd = socket(target_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0) return -1;
    /* Connected blocking, then non-blocking: setup, not the measured path. */
    if (connect(c->fd, (struct sockaddr *)&target, target_len) != 0) {
        close(c->fd);
        c->fd = -1;
        err_connect++;
        return -1;
    }
    if (target_family != AF_UNIX) {
        int one = 1;
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    fcntl(c->fd, F_SETFL, O_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
    return 0;
}

static void close_conn(int ep, struct conn *c) {
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
    c->sent_at = 0;
}

static int send_request(struct conn *c) {
    c->head_len = 0;
    c->body_left = -1;
    c->sent_at = now_ns();
    ssize_t n = send(c->fd, request, request_len, MSG_NOSIGNAL);
    if (n != (ssize_t)request_len) {
        err_write++;
        return -1;
    }
    return 0;
}

static void record(int64_t ns) {
    long long us = ns / 1000;
    histogram[us < BUCKETS ? us : BUCKETS - 1]++;
    sum_us += us;
    if (us > max_us) max_us = us;
    completed++;
}

/* The head's status and Content-Length; -1 when it has none (not supported here). */
static long long parse_head(const char *head, size_t len, int *status) {
    *status = len > 12 ? atoi(head + 9) : 0;
    const char *p = head;
    const char *end = head + len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol) break;
        if ((size_t)(eol - p) > 15 && strncasecmp(p, "content-length:", 15) == 0) return atoll(p + 15);
        p = eol + 1;
    }
    return -1;
}

/* Reads what is there; returns 1 when the response completed, 0 when more is to come, -1 on error or EOF. */
static int on_readable(struct conn *c) {
    static char buf[262144];
    for (;;) {
        ssize_t n = recv(c->fd, buf, sizeof buf, 0);
        if (n < 0) return errno == EAGAIN ? 0 : -1;
        if (n == 0) return -1;
        size_t off = 0;
        if (c->body_left < 0) {
            size_t room = sizeof c->head - c->head_len;
            size_t take = (size_t)n < room ? (size_t)n : room;
            memcpy(c->head + c->head_len, buf, take);
            size_t scanned_from = c->head_len > 3 ? c->head_len - 3 : 0;
            c->head_len += take;
            char *end = memmem(c->head + scanned_from, c->head_len - scanned_from, "\r\n\r\n", 4);
            if (!end) {
                if (c->head_len == sizeof c->head) return -1;
                continue;
            }
            size_t head_bytes = (size_t)(end - c->head) + 4;
            int status;
            long long length = parse_head(c->head, head_bytes, &status);
            if (length < 0) return -1;
            if (status < 200 || status > 399) err_status++;
            c->body_left = length;
            /* Bytes of this read past the head are body. */
            off = head_bytes - (c->head_len - take);
        }
        c->body_left -= (long long)((size_t)n - off);
        if (c->body_left == 0) return 1;
        if (c->body_left < 0) return -1; /* more than Content-Length: not a keep-alive answer we can follow */
    }
}

static int parse_target(const char *kind, const char *where) {
    memset(&target, 0, sizeof target);
    if (strcmp(kind, "--unix") == 0) {
        struct sockaddr_un *sun = (struct sockaddr_un *)&target;
        if (strlen(where) >= sizeof sun->sun_path) return -1;
        sun->sun_family = AF_UNIX;
        strcpy(sun->sun_path, where);
        target_len = sizeof *sun;
        target_family = AF_UNIX;
        return 0;
    }
    const char *colon = strrchr(where, ':');
    if (strcmp(kind, "--tcp") != 0 || !colon) return -1;
    char host[64];
    snprintf(host, sizeof host, "%.*s", (int)(colon - where), where);
    struct sockaddr_in *sin = (struct sockaddr_in *)&target;
    sin->sin_family = AF_INET;
    sin->sin_port = htons((uint16_t)atoi(colon + 1));
    if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) return -1;
    target_len = sizeof *sin;
    target_family = AF_INET;
    return 0;
}

static long long percentile(double q) {
    long long want = (long long)(q / 100.0 * (double)completed + 0.5);
    if (want < 1) want = 1;
    long long seen = 0;
    for (long long i = 0; i < BUCKETS; i++) {
        seen += histogram[i];
        if (seen >= want) return i;
    }
    return BUCKETS - 1;
}

int main(int argc, char **argv) {
    if (argc != 10 || strcmp(argv[3], "-c") != 0 || strcmp(argv[5], "-d") != 0 || strcmp(argv[7], "-H") != 0 ||
        parse_target(argv[1], argv[2]) != 0) {
        fprintf(stderr, "usage: load (--tcp 127.0.0.1:PORT | --unix PATH) -c CONNECTIONS -d SECONDS -H HOST PATH\n");
        return 2;
    }
    int connections = atoi(argv[4]);
    double seconds = atof(argv[6]);
    request_len = (size_t)snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", argv[9], argv[8]);
    histogram = calloc(BUCKETS, sizeof *histogram);
    struct conn *conns = calloc((size_t)connections, sizeof *conns);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (!histogram || !conns || ep < 0) return 1;
    for (int i = 0; i < connections; i++) {
        if (open_conn(ep, &conns[i]) == 0) send_request(&conns[i]);
    }
    int64_t start = now_ns();
    int64_t stop = start + (int64_t)(seconds * 1e9);
    struct epoll_event events[256];
    int64_t now = start;
    int64_t last_sweep = start;
    while (now < stop) {
        int n = epoll_wait(ep, events, 256, 50);
        now = now_ns();
        for (int i = 0; i < n; i++) {
            struct conn *c = events[i].data.ptr;
            int r = on_readable(c);
            if (r == 0) continue;
            if (r == 1) {
                record(now - c->sent_at);
                if (now < stop && send_request(c) == 0) continue;
            } else {
                err_read++;
            }
            close_conn(ep, c);
            if (now < stop && open_conn(ep, c) == 0) send_request(c);
        }
        /* A request outstanding past the timeout is counted and its connection replaced, as wrk does; looked for
         * every 10 ms, not at every wake-up (that would be a pass over all connections per response). */
        if (now - last_sweep < 10000000) continue;
        last_sweep = now;
        for (int i = 0; i < connections; i++) {
            struct conn *c = &conns[i];
            if (c->fd >= 0 && c->sent_at && now - c->sent_at > REQUEST_TIMEOUT_NS) {
                err_timeout++;
                close_conn(ep, c);
                if (open_conn(ep, c) == 0) send_request(c);
            } else if (c->fd < 0 && now < stop && open_conn(ep, c) == 0) {
                send_request(c);
            }
        }
    }
    long long duration_us = (now - start) / 1000;
    printf("BENCH requests=%lld duration_us=%lld connect=%lld read=%lld write=%lld status=%lld timeout=%lld "
           "p50=%lld p90=%lld p99=%lld p999=%lld mean=%.1f max=%lld\n",
           completed, duration_us, err_connect, err_read, err_write, err_status, err_timeout, percentile(50),
           percentile(90), percentile(99), percentile(99.9), completed ? (double)sum_us / (double)completed : 0.0, max_us);
    return 0;
}
