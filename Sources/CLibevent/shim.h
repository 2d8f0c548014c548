/* libevent for Swift: the headers BerthCore needs, plus static inline wrappers for libevent's function-like macros. */
#ifndef BERTH_CLIBEVENT_SHIM_H
#define BERTH_CLIBEVENT_SHIM_H

/*
 * System headers first: libevent's event-config.h defines _GNU_SOURCE, and if it came first, this module's fd_set
 * would differ from the one in Swift's Glibc module (a clean build then fails with "__fds_bits ... is not present").
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <unistd.h>
#include <sys/types.h>
#include <sys/time.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <linux/netlink.h>

#include <event2/event.h>
#include <event2/buffer.h>
#include <event2/dns.h>
#include <event2/util.h>

/* eventfd's flags are enum values Swift's Glibc module does not always surface. */
static inline int berth_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

/* inotify for the freezer watch (FileWatch.swift): Swift's Glibc module has no sys/inotify.h. */
static inline int berth_inotify_init(void) { return inotify_init1(IN_NONBLOCK | IN_CLOEXEC); }

/* Glibc's Swift module hides accept4 (it needs _GNU_SOURCE); declaring it here keeps one accept per connection. */
extern int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
static inline int berth_accept4(int fd, int flags) { return accept4(fd, (struct sockaddr *)0, (socklen_t *)0, flags); }

/* evtimer_* and evsignal_* are macros, which Swift does not import. */
static inline struct event *berth_evtimer_new(struct event_base *base, event_callback_fn cb, void *arg) {
    return event_new(base, -1, 0, cb, arg);
}
static inline struct event *berth_evsignal_new(struct event_base *base, int signum, event_callback_fn cb, void *arg) {
    return event_new(base, signum, EV_SIGNAL | EV_PERSIST, cb, arg);
}
static inline int berth_evtimer_add_ms(struct event *ev, long long ms) {
    struct timeval tv;
    tv.tv_sec = (time_t)(ms / 1000);
    tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
    return event_add(ev, &tv);
}
static inline int berth_event_pending(const struct event *ev, short what) {
    return event_pending(ev, what, NULL);
}
static inline int berth_event_add_forever(struct event *ev) {
    return event_add(ev, NULL);
}
static inline int berth_errno(void) { return errno; }

/*
 * The kernel's uevent broadcast (VMRestoreWatch): a non-blocking NETLINK_KOBJECT_UEVENT socket bound to group 1, the
 * kernel's own messages (udev's re-broadcasts are group 2). `rcvbuf` is asked for with SO_RCVBUFFORCE (root may pass
 * net.core.rmem_max), else SO_RCVBUF: a deeper queue makes an overrun by other devices' uevents rarer.
 */
static inline int berth_uevent_socket(int rcvbuf) {
    int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
    if (fd < 0) return -1;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) != 0) {
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    }
    struct sockaddr_nl a;
    memset(&a, 0, sizeof a);
    a.nl_family = AF_NETLINK;
    a.nl_groups = 1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

/* One uevent datagram into buf. Returns its length (truncated to len), -1 with errno set (EAGAIN: none left, ENOBUFS:
 * the queue overran and messages were lost). *from_kernel is 1 only when the kernel sent it (nl_pid 0): no process
 * can send as the kernel, so a local user cannot fake a restore. */
static inline ssize_t berth_uevent_recv(int fd, void *buf, size_t len, int *from_kernel) {
    struct sockaddr_nl a;
    socklen_t alen = sizeof a;
    memset(&a, 0, sizeof a);
    ssize_t n = recvfrom(fd, buf, len, 0, (struct sockaddr *)&a, &alen);
    *from_kernel = n >= 0 && alen == sizeof a && a.nl_family == AF_NETLINK && a.nl_pid == 0;
    return n;
}

/* Maps the first `len` bytes of the file at `path` read-only and shared (VMClock's page, which the hypervisor
 * rewrites in place); NULL with errno set on failure. The descriptor is not kept: the mapping holds the file. */
static inline const void *berth_map_readonly(const char *path, size_t len) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    void *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
    int saved = errno;
    close(fd);
    if (p == MAP_FAILED) { errno = saved; return NULL; }
    return p;
}

static inline void berth_unmap(const void *p, size_t len) { munmap((void *)p, len); }

/*
 * VMClock's vm_generation_counter (include/uapi/linux/vmclock-abi.h): magic "VCLK" at 0, seq_count at 12 (odd while the
 * hypervisor updates the page), flags at 24 (bit 8: the counter is present), the counter at 104, all little-endian.
 * Read under the seqcount, as the ABI asks. Returns 1 with the counter in *out, 0 when the page was mid-update on
 * every try (read again later), -1 when the page is not VMClock or has no generation counter.
 */
static inline int berth_vmclock_generation(const void *page, uint64_t *out) {
    const volatile unsigned char *p = (const volatile unsigned char *)page;
    if (__atomic_load_n((const uint32_t *)(p + 0), __ATOMIC_RELAXED) != 0x4b4c4356u) return -1;
    if ((__atomic_load_n((const uint64_t *)(p + 24), __ATOMIC_RELAXED) & (1u << 8)) == 0) return -1;
    for (int tries = 0; tries < 4; tries++) {
        uint32_t before = __atomic_load_n((const uint32_t *)(p + 12), __ATOMIC_ACQUIRE);
        if (before & 1u) continue;
        uint64_t value = __atomic_load_n((const uint64_t *)(p + 104), __ATOMIC_RELAXED);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n((const uint32_t *)(p + 12), __ATOMIC_RELAXED) == before) {
            *out = value;
            return 1;
        }
    }
    return 0;
}

/* Bytes a socket's send queue still holds (not sent, or sent and not acknowledged): SIOCOUTQ; -1 on failure. */
static inline int berth_unacknowledged(int fd) {
    int n = 0;
    return ioctl(fd, SIOCOUTQ, &n) == 0 ? n : -1;
}

/* One send of `len` bytes; MSG_NOSIGNAL: a closed peer is EPIPE, never SIGPIPE (a channel's output front). */
static inline ssize_t berth_send(int fd, const void *p, size_t len) { return send(fd, p, len, MSG_NOSIGNAL); }

/* A channel's output front and, behind it, the evbuffer's first chains in one sendmsg; drains nothing (the caller
 * drains the front, then the evbuffer by what went past the front). */
static inline ssize_t berth_send_front_and_buffer(int fd, const void *p, size_t len, struct evbuffer *buf) {
    struct evbuffer_iovec vec[16];
    vec[0].iov_base = (void *)p;
    vec[0].iov_len = len;
    int n = evbuffer_peek(buf, -1, NULL, vec + 1, 15);
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = (struct iovec *)vec;
    m.msg_iovlen = (size_t)(1 + (n < 0 ? 0 : n < 15 ? n : 15));
    return sendmsg(fd, &m, MSG_NOSIGNAL);
}

/* Writes as much of `buf` to the socket `fd` as the kernel takes and drains what was sent; returns send()'s result.
 * In place of evbuffer_write, which always uses writev: send() on one contiguous piece skips the VFS and iovec layers
 * (about 3% of a proxied request's kernel time). Small output in several chains (a head and a short body) is pulled
 * into one first; larger output goes out with sendmsg over up to 16 chains. MSG_NOSIGNAL: a closed peer is EPIPE,
 * never SIGPIPE. evbuffer_iovec has struct iovec's layout on Unix (libevent documents it). */
static inline ssize_t berth_evbuffer_send_fd(struct evbuffer *buf, int fd) {
    struct evbuffer_iovec vec[16];
    int n = evbuffer_peek(buf, -1, NULL, vec, 16);
    if (n <= 0) return 0;
    ssize_t sent;
    if (n == 1) {
        sent = send(fd, vec[0].iov_base, vec[0].iov_len, MSG_NOSIGNAL);
    } else {
        size_t total = evbuffer_get_length(buf);
        if (total <= 4096) {
            unsigned char *p = evbuffer_pullup(buf, -1);
            if (p == NULL) { errno = ENOMEM; return -1; }
            sent = send(fd, p, total, MSG_NOSIGNAL);
        } else {
            struct msghdr m;
            memset(&m, 0, sizeof m);
            m.msg_iov = (struct iovec *)vec;
            m.msg_iovlen = (size_t)(n < 16 ? n : 16);
            sent = sendmsg(fd, &m, MSG_NOSIGNAL);
        }
    }
    if (sent > 0) evbuffer_drain(buf, (size_t)sent);
    return sent;
}

/* The first contiguous chunk without any copy: its length goes to *len. */
static inline const unsigned char *berth_evbuffer_first_chunk(struct evbuffer *buf, size_t *len) {
    struct evbuffer_iovec v;
    int n = evbuffer_peek(buf, -1, NULL, &v, 1);
    if (n <= 0) { *len = 0; return NULL; }
    *len = v.iov_len;
    return (const unsigned char *)v.iov_base;
}

/*
 * A per-thread cache of the blocks libevent allocates for evbuffer chains. libevent sizes chains as powers of two from
 * 512 bytes, and frees a chain as soon as it is drained, so every request would otherwise malloc and free four of them.
 * Freed blocks of those sizes wait on a short per-thread list instead; everything else goes to malloc. Each block
 * carries its size in a 16-byte header because libevent's free hook is not told it.
 *
 * Sanitizers: BERTH_CHAIN_BLOCK_CACHE=off in the environment installs libc's allocator instead, so AddressSanitizer
 * sees every chain block's free and reuse (scripts/sanitize sets it). With the cache on under ASan, a cached block's
 * bytes are poisoned while it waits on the list, so a read of a drained chain is still reported.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define BERTH_MM_HEADER 16
#define BERTH_MM_CLASSES 10 /* 512 B .. 256 KiB */

struct berth_mm_block { struct berth_mm_block *next; };
struct berth_mm_cache {
    struct berth_mm_block *lists[BERTH_MM_CLASSES];
    int counts[BERTH_MM_CLASSES];
    /* Whether the thread-exit destructor knows this thread's cache (berth_mm_watch_thread_exit). */
    int watched;
};

/* Function-local: Swift's importer emits inline functions from a header, but not file-scope static variables. */
static inline struct berth_mm_cache *berth_mm_cache(void) {
    static __thread struct berth_mm_cache cache;
    return &cache;
}

/* A class is a power of two from 512 bytes: its index from the trailing zeros, no loop (~15 instructions fewer a call,
 * four calls a request). */
static inline int berth_mm_class(size_t size) {
    if (size < 512 || size > ((size_t)512 << (BERTH_MM_CLASSES - 1)) || (size & (size - 1)) != 0) return -1;
    return __builtin_ctzl(size) - 9;
}

/* Small blocks are reused often; a few large ones are enough for bodies in flight. */
static inline int berth_mm_keep(int c) { return c <= 5 ? 256 : 16; }

/* Gives the calling thread's cached blocks back to libc; the cache stays usable (it refills on the next frees). */
static inline void berth_mm_release_thread_cache(void) {
    struct berth_mm_cache *cache = berth_mm_cache();
    for (int c = 0; c < BERTH_MM_CLASSES; c++) {
        while (cache->lists[c] != NULL) {
            struct berth_mm_block *b = cache->lists[c];
            cache->lists[c] = b->next;
            free((char *)b - sizeof(size_t));
        }
        cache->counts[c] = 0;
    }
}

static void berth_mm_thread_exited(void *cache) {
    (void)cache;
    berth_mm_release_thread_cache();
}

static inline pthread_key_t *berth_mm_exit_key(void) {
    static pthread_key_t key;
    return &key;
}

static void berth_mm_make_exit_key(void) { pthread_key_create(berth_mm_exit_key(), berth_mm_thread_exited); }

/* A worker thread's cache would leak when the thread ends: each loop thread registers this destructor before it runs
 * (EventBase.run), so the allocator's own paths carry no check. */
static inline void berth_mm_watch_thread_exit(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    struct berth_mm_cache *cache = berth_mm_cache();
    if (cache->watched) return;
    pthread_once(&once, berth_mm_make_exit_key);
    pthread_setspecific(*berth_mm_exit_key(), cache);
    cache->watched = 1;
}

static void *berth_mm_malloc(size_t size) {
    int c = berth_mm_class(size);
    struct berth_mm_cache *cache = berth_mm_cache();
    if (c >= 0 && cache->lists[c] != NULL) {
        struct berth_mm_block *b = cache->lists[c];
        cache->lists[c] = b->next;
        cache->counts[c]--;
        /* The link sits after the size word, so the size survives the block's time on the list. */
        return (char *)b - sizeof(size_t) + BERTH_MM_HEADER;
    }
    char *p = (char *)malloc(size + BERTH_MM_HEADER);
    if (p == NULL) return NULL;
    *(size_t *)p = size;
    return p + BERTH_MM_HEADER;
}

/* Frees `ptr` to the cache (returns 1) or to libc (0). */
static inline int berth_mm_put(void *ptr) {
    char *p = (char *)ptr - BERTH_MM_HEADER;
    int c = berth_mm_class(*(size_t *)p);
    struct berth_mm_cache *cache = berth_mm_cache();
    if (c >= 0 && cache->counts[c] < berth_mm_keep(c)) {
        struct berth_mm_block *b = (struct berth_mm_block *)(p + sizeof(size_t));
        b->next = cache->lists[c];
        cache->lists[c] = b;
        cache->counts[c]++;
        return 1;
    }
    free(p);
    return 0;
}

static void berth_mm_free(void *ptr) {
    if (ptr == NULL) return;
    (void)berth_mm_put(ptr);
}

/* realloc over a malloc and free of the cache's (plain or poisoned); inlined, the calls are direct. */
static inline void *berth_mm_realloc_with(void *ptr, size_t size, void *(*alloc)(size_t), void (*release)(void *)) {
    if (ptr == NULL) return alloc(size);
    size_t old = *(size_t *)((char *)ptr - BERTH_MM_HEADER);
    if (size <= old && berth_mm_class(old) < 0) return ptr;
    void *fresh = alloc(size);
    if (fresh == NULL) return NULL;
    memcpy(fresh, ptr, old < size ? old : size);
    release(ptr);
    return fresh;
}

static void *berth_mm_realloc(void *ptr, size_t size) {
    return berth_mm_realloc_with(ptr, size, berth_mm_malloc, berth_mm_free);
}

/* Present only in a process linked with AddressSanitizer's runtime. */
extern void __asan_poison_memory_region(void const volatile *addr, size_t size) __attribute__((weak));
extern void __asan_unpoison_memory_region(void const volatile *addr, size_t size) __attribute__((weak));

/* The cache under ASan: a block's bytes (not its header, which the list uses) are poisoned while it is cached. */
static void *berth_mm_malloc_poisoned(size_t size) {
    void *p = berth_mm_malloc(size);
    if (p != NULL) __asan_unpoison_memory_region(p, size);
    return p;
}

static void berth_mm_free_poisoned(void *ptr) {
    if (ptr == NULL) return;
    size_t size = *(size_t *)((char *)ptr - BERTH_MM_HEADER);
    if (berth_mm_put(ptr)) __asan_poison_memory_region(ptr, size);
}

static void *berth_mm_realloc_poisoned(void *ptr, size_t size) {
    return berth_mm_realloc_with(ptr, size, berth_mm_malloc_poisoned, berth_mm_free_poisoned);
}

/* Whether BERTH_CHAIN_BLOCK_CACHE=off asks for libc's allocator (sanitizer runs). */
static inline int berth_mm_cache_disabled(void) {
    const char *v = getenv("BERTH_CHAIN_BLOCK_CACHE");
    return v != NULL && (strcmp(v, "off") == 0 || strcmp(v, "0") == 0);
}

/* Whether the plain cache is the allocator: not under a sanitizer run (BERTH_CHAIN_BLOCK_CACHE=off) nor ASan, where
 * every block's reuse must stay visible (a channel's spare blocks, BlockPool, are kept only then). */
static inline int berth_mm_plain_cache(void) {
    int asan = __asan_poison_memory_region != NULL && __asan_unpoison_memory_region != NULL;
    return !berth_mm_cache_disabled() && !asan;
}

/* Must run before any other libevent call: blocks from the two allocators must never meet. */
static inline void berth_install_allocator(void) {
    if (berth_mm_cache_disabled()) return; /* libevent's default is libc's malloc, realloc and free */
    if (__asan_poison_memory_region != NULL && __asan_unpoison_memory_region != NULL) {
        event_set_mem_functions(berth_mm_malloc_poisoned, berth_mm_realloc_poisoned, berth_mm_free_poisoned);
    } else {
        event_set_mem_functions(berth_mm_malloc, berth_mm_realloc, berth_mm_free);
    }
}

/*
 * A channel's blocks (ByteBlock.swift: its input, the front of its output) come through libevent's own entry points
 * to the allocator it was given (event_mm_malloc_ and event_mm_free_, exported by libevent 2.1 but not in its public
 * headers), not berth_mm_malloc directly: each Swift file that uses this header gets its own copy of these static
 * functions and of the per-thread cache inside them, and only the copy installed with event_set_mem_functions is the
 * one every block comes back to, that ASan poisons when on, and that the thread-exit release empties. (Called
 * directly, a block made in one file and freed in another was never reused: a malloc per read.)
 */
extern void *event_mm_malloc_(size_t size);
extern void event_mm_free_(void *ptr);

static inline void *berth_block_alloc(size_t size) { return event_mm_malloc_(size); }
static inline void berth_block_free(void *block) { event_mm_free_(block); }

static void berth_block_cleanup(const void *data, size_t len, void *block) {
    (void)data, (void)len, berth_block_free(block);
}

/* Appends `len` bytes at `data`, inside `block`, to `buf` by reference: the output owns the block from here on and
 * frees it once sent (a large body run handed from one channel's input to another's output without a copy).
 * Returns 0, or -1 when libevent found no memory (the block stays the caller's). */
static inline int berth_evbuffer_add_block(struct evbuffer *buf, const void *data, size_t len, void *block) {
    return evbuffer_add_reference(buf, data, len, berth_block_cleanup, block);
}

#endif
