// The kernel's floor for a proxy on this machine: a relay that moves bytes and nothing else (bench/run --targets floor, floor-unix).
//
// Each accepted caller connection gets its own upstream connection for life, and every readable event does one
// recv(2) and one send(2) to the peer (the cheapest socket calls; read/write add the VFS layers): the four system
// calls per request that any one-loop HTTP/1.1 proxy needs, with no parsing, no pooling and no timers. Its CPU per request is what the kernel alone charges; a real proxy
// can only add to it. Not a proxy: no HTTP, bodies up to the socket buffer (bench bodies 2 B and 4 KiB), loopback.
// Callers reach it on a TCP port, or on a Unix socket (LISTEN written unix:/path) for the floor of that socket kind;
// the upstream hop is TCP either way, as for the proxies it is compared with.
#include <event2/event.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct pair {
    int caller, upstream;
    struct event *caller_ev, *upstream_ev;
};

static struct event_base *base;
static struct sockaddr_in upstream_addr;
static int caller_is_tcp = 1;
static char buf[65536];

static void pair_close(struct pair *p) {
    event_free(p->caller_ev);
    event_free(p->upstream_ev);
    close(p->caller);
    close(p->upstream);
    free(p);
}

static void relay(int fd, short what, void *arg) {
    struct pair *p = arg;
    int to = fd == p->caller ? p->upstream : p->caller;
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0 || send(to, buf, (size_t)n, MSG_NOSIGNAL) != n) pair_close(p);
}

static void on_accept(int lfd, short what, void *arg) {
    int one = 1;
    int c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
    if (c < 0) return;
    int u = socket(AF_INET, SOCK_STREAM, 0);
    // Connected blocking, then non-blocking: this is setup, not the measured path.
    if (u < 0 || connect(u, (struct sockaddr *)&upstream_addr, sizeof upstream_addr) != 0) {
        close(c);
        if (u >= 0) close(u);
        return;
    }
    fcntl(u, F_SETFL, O_NONBLOCK);
    if (caller_is_tcp) setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(u, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct pair *p = malloc(sizeof *p);
    p->caller = c;
    p->upstream = u;
    p->caller_ev = event_new(base, c, EV_READ | EV_PERSIST, relay, p);
    p->upstream_ev = event_new(base, u, EV_READ | EV_PERSIST, relay, p);
    event_add(p->caller_ev, NULL);
    event_add(p->upstream_ev, NULL);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: floor (LISTEN_PORT | unix:PATH) UPSTREAM_PORT (ports on 127.0.0.1)\n");
        return 2;
    }
    int one = 1;
    upstream_addr.sin_family = AF_INET;
    upstream_addr.sin_port = htons((uint16_t)atoi(argv[2]));
    upstream_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct sockaddr_in listen_addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])),
                                      .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct sockaddr_un listen_path = {.sun_family = AF_UNIX};
    struct sockaddr *bind_addr = (struct sockaddr *)&listen_addr;
    socklen_t bind_len = sizeof listen_addr;
    if (strncmp(argv[1], "unix:", 5) == 0) {
        caller_is_tcp = 0;
        snprintf(listen_path.sun_path, sizeof listen_path.sun_path, "%s", argv[1] + 5);
        unlink(listen_path.sun_path);
        bind_addr = (struct sockaddr *)&listen_path;
        bind_len = sizeof listen_path;
    }
    int l = socket(caller_is_tcp ? AF_INET : AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (caller_is_tcp) setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(l, bind_addr, bind_len) != 0 || listen(l, 4096) != 0) {
        perror("floor: listen");
        return 1;
    }
    base = event_base_new();
    event_add(event_new(base, l, EV_READ | EV_PERSIST, on_accept, NULL), NULL);
    return event_base_dispatch(base);
}
