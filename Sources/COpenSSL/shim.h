/* OpenSSL 3 for Swift: the headers EventLoop's TLS needs, static inline wrappers for OpenSSL's macros, and a BIO on berth's own sockets. */
#ifndef BERTH_COPENSSL_SHIM_H
#define BERTH_COPENSSL_SHIM_H

/* System headers first, as in CLibevent's shim: the Glibc module's types must be the ones these headers see. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/socket.h>

#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <openssl/rand.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>

/*
 * The BIO every berth TLS connection reads and writes through: recv/send on the connection's own non-blocking socket
 * (the fd is the BIO's data), so OpenSSL never owns or closes it. recv and send rather than OpenSSL's socket BIO
 * (read/write): the same system calls as the plain path, and MSG_NOSIGNAL, so a peer that went away is EPIPE, never
 * SIGPIPE, whether or not the process ignores the signal. A read's EAGAIN becomes a retry, which SSL_get_error
 * reports as SSL_ERROR_WANT_READ for the channel to map onto its read event. A write never asks for a retry: what the
 * kernel has no room for is queued here, in order, and the channel sends it when the socket is writable (EV_WRITE),
 * making no more records until it has left. So OpenSSL never holds a record half sent, and can always write from
 * inside a read: OpenSSL 3.0 answers a KeyUpdate that asks for one inside the SSL_read that reads it, and with a
 * record of an upload pending that answer failed its own retry check ("bad length"), and the connection with it
 * (reliability item 157).
 */
/*
 * The BIO's data: the connection's socket, and how many more bytes the SSL call under way may take from it. OpenSSL's
 * read goes on processing records that carry no data (session tickets, KeyUpdates) for as long as the socket has
 * more (and a handshake ignores HelloRequests the same way), so a peer flooding tickets held one SSL_read, and the
 * whole worker, for seconds; a budget the channel sets before each read and handshake step makes the BIO answer
 * "retry" once it is spent, the socket stays readable (level-triggered), and the rest waits for the next turn of
 * the loop. SIZE_MAX (between those calls: writes, shutdown) is no limit. Then the ciphertext queue: `length` bytes
 * from `queue + head`, in a buffer of `capacity` made at the first push-back; and `sent`, the bytes handed to the
 * kernel over the connection's life (the dead-peer look compares it with what the peer acknowledged). Owned by the
 * connection (TLSConnection), which frees it after the SSL (`berth_bio_state_free`).
 */
typedef struct berth_bio_state {
    int fd;
    size_t budget;
    unsigned char *queue;
    size_t head;
    size_t length;
    size_t capacity;
    uint64_t sent;
} berth_bio_state;

/* The queue's first size: the rest of the largest record and a few small messages behind it (a KeyUpdate answer). */
#define BERTH_BIO_QUEUE_FIRST ((size_t)20 << 10)
/* The most it may hold. Records are made only while it is empty, so past the first record only the messages reads
 * answer come in (KeyUpdates, 1-2 dozen bytes each): a peer that asks for ~40,000 answers without reading one gets
 * a failed write (ENOBUFS), which ends the connection, rather than memory without bound. */
#define BERTH_BIO_QUEUE_LIMIT ((size_t)1 << 20)

/* A state for the socket `fd`: no budget, nothing queued. */
static inline berth_bio_state berth_bio_state_make(int fd) {
    berth_bio_state state = {fd, SIZE_MAX, NULL, 0, 0, 0, 0};
    return state;
}

/* Frees the queue's buffer; the state itself is the owner's. */
static inline void berth_bio_state_free(berth_bio_state *state) {
    free(state->queue);
    state->queue = NULL;
    state->head = state->length = state->capacity = 0;
}

/* Appends `len` bytes to the queue, growing it up to the limit; 0 when it would pass it or memory ran out. */
static int berth_bio_enqueue(berth_bio_state *s, const char *data, size_t len) {
    if (s->head + s->length + len > s->capacity) {
        if (s->head > 0) {
            memmove(s->queue, s->queue + s->head, s->length);
            s->head = 0;
        }
        size_t need = s->length + len;
        if (need > s->capacity) {
            if (need > BERTH_BIO_QUEUE_LIMIT) return 0;
            size_t cap = s->capacity ? s->capacity : BERTH_BIO_QUEUE_FIRST;
            while (cap < need) cap *= 2;
            if (cap > BERTH_BIO_QUEUE_LIMIT) cap = BERTH_BIO_QUEUE_LIMIT;
            unsigned char *grown = realloc(s->queue, cap);
            if (grown == NULL) return 0;
            s->queue = grown;
            s->capacity = cap;
        }
    }
    memcpy(s->queue + s->head + s->length, data, len);
    s->length += len;
    return 1;
}

/* Straight to the socket while nothing is queued; what the kernel does not take (EAGAIN, or part) is queued behind,
 * and the whole write is reported done. A failed send is a failed write, errno kept for SSL_ERROR_SYSCALL. */
static int berth_bio_write(BIO *b, const char *data, size_t len, size_t *written) {
    berth_bio_state *s = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    size_t done = 0;
    while (s->length == 0 && done < len) {
        ssize_t n = send(s->fd, data + done, len - done, MSG_NOSIGNAL);
        if (n > 0) {
            done += (size_t)n;
            s->sent += (uint64_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        if (n == 0) errno = EPIPE;
        return 0;
    }
    if (done < len && !berth_bio_enqueue(s, data + done, len - done)) {
        errno = ENOBUFS;
        return 0;
    }
    *written = len;
    return 1;
}

/* Sends what the queue holds, in order: 1 when it is empty after, 0 when the kernel pushed back (EAGAIN), and
 * -errno when the socket failed. An emptied queue keeps its first buffer; one a flood grew is freed. */
static inline int berth_bio_send_queued(berth_bio_state *s) {
    while (s->length > 0) {
        ssize_t n = send(s->fd, s->queue + s->head, s->length, MSG_NOSIGNAL);
        if (n > 0) {
            s->head += (size_t)n;
            s->length -= (size_t)n;
            s->sent += (uint64_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
        return n == 0 ? -EPIPE : -errno;
    }
    s->head = 0;
    if (s->capacity > BERTH_BIO_QUEUE_FIRST) berth_bio_state_free(s);
    return 1;
}

/* Drops what the queue holds (nothing more will be sent: the sending side was shut). */
static inline void berth_bio_drop_queued(berth_bio_state *s) {
    s->head = s->length = 0;
}

static int berth_bio_read(BIO *b, char *data, size_t len, size_t *got) {
    berth_bio_state *state = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (state->budget == 0) { BIO_set_retry_read(b); return 0; }
    ssize_t n = recv(state->fd, data, len, 0);
    if (n > 0) {
        *got = (size_t)n;
        state->budget = (size_t)n < state->budget ? state->budget - (size_t)n : 0;
        return 1;
    }
    /* The record layer asks BIO_eof to tell a closed peer from an error. */
    if (n == 0) BIO_set_flags(b, BIO_FLAGS_IN_EOF);
    else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) BIO_set_retry_read(b);
    return 0;
}

static long berth_bio_ctrl(BIO *b, int cmd, long num, void *ptr) {
    (void)num; (void)ptr;
    switch (cmd) {
    case BIO_CTRL_FLUSH: return 1;  /* queued bytes leave on the channel's write event, not on OpenSSL's flush */
    case BIO_CTRL_EOF: return BIO_test_flags(b, BIO_FLAGS_IN_EOF) != 0;
    default: return 0;
    }
}

static int berth_bio_create(BIO *b) { BIO_set_init(b, 1); return 1; }

/* The method, made once per process; a compare-and-swap settles two threads making it at once. */
static inline BIO_METHOD *berth_bio_method(void) {
    static BIO_METHOD *shared;
    BIO_METHOD *m = __atomic_load_n(&shared, __ATOMIC_ACQUIRE);
    if (m != NULL) return m;
    BIO_METHOD *fresh = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "berth socket");
    if (fresh == NULL) return NULL;
    BIO_meth_set_write_ex(fresh, berth_bio_write);
    BIO_meth_set_read_ex(fresh, berth_bio_read);
    BIO_meth_set_ctrl(fresh, berth_bio_ctrl);
    BIO_meth_set_create(fresh, berth_bio_create);
    BIO_METHOD *expected = NULL;
    if (!__atomic_compare_exchange_n(&shared, &expected, fresh, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        BIO_meth_free(fresh);
        return expected;
    }
    return fresh;
}

/*
 * A client context with the choices berth never leaves to the peer: at least `min_version` (TLS 1.2 or 1.3), no
 * renegotiation (a server-initiated one would make a write wait for a read), no compression (CRIME), ALPN offering
 * http/1.1 only, sessions handed to the new-session callback and not kept by OpenSSL (berth caches one per upstream),
 * read-ahead (one recv takes every record the kernel holds), partial writes (one record per SSL_write; a buffer
 * moving between retries is allowed too, though berth's BIO never asks a write to retry). An EOF without close_notify stays an error (no SSL_OP_IGNORE_UNEXPECTED_EOF,
 * which would make it look exactly like close_notify): the channel reads it as an EOF that was not clean
 * (`berth_tls_unexpected_eof`), since only a close-delimited body needs the difference (a cut would pass for its
 * end). NULL on failure, with the reason on OpenSSL's error queue.
 */
static inline SSL_CTX *berth_tls_ctx_new(int min_version, int verify) {
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL) return NULL;
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    static const unsigned char alpn[] = "\x08http/1.1";
    if (!SSL_CTX_set_min_proto_version(ctx, min_version) || SSL_CTX_set_alpn_protos(ctx, alpn, sizeof alpn - 1) != 0) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_read_ahead(ctx, 1);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_set_verify(ctx, verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
    return ctx;
}

/* Whether the error on top of the queue is the peer's EOF without close_notify (after SSL_ERROR_SSL from a read). */
static inline int berth_tls_unexpected_eof(void) {
    unsigned long e = ERR_peek_error();
    return ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING;
}

/* Trusts every certificate in `pem` (and nothing from the system store); returns how many, -1 if it is not PEM. */
static inline int berth_tls_ctx_trust_pem(SSL_CTX *ctx, const char *pem, int len) {
    BIO *bio = BIO_new_mem_buf(pem, len);
    if (bio == NULL) return -1;
    STACK_OF(X509_INFO) *infos = PEM_X509_INFO_read_bio(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (infos == NULL) return -1;
    X509_STORE *store = SSL_CTX_get_cert_store(ctx);
    int added = 0;
    for (int i = 0; i < sk_X509_INFO_num(infos); i++) {
        X509_INFO *info = sk_X509_INFO_value(infos, i);
        if (info->x509 != NULL && X509_STORE_add_cert(store, info->x509) == 1) added++;
    }
    sk_X509_INFO_pop_free(infos, X509_INFO_free);
    return added;
}

/* The client's certificate chain (leaf first) from `pem`: 1 on success, 0 when there is no certificate in it. */
static inline int berth_tls_ctx_use_chain_pem(SSL_CTX *ctx, const char *pem, int len) {
    BIO *bio = BIO_new_mem_buf(pem, len);
    if (bio == NULL) return 0;
    X509 *leaf = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    int ok = leaf != NULL && SSL_CTX_use_certificate(ctx, leaf) == 1;
    X509_free(leaf);
    X509 *extra;
    while (ok && (extra = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        ok = SSL_CTX_add1_chain_cert(ctx, extra) == 1;
        X509_free(extra);
    }
    BIO_free(bio);
    /* Reading ends on "no start line", which is not an error. */
    if (ok) ERR_clear_error();
    return ok;
}

/* Refuses any passphrase: OpenSSL's default callback would prompt on the terminal for an encrypted key. */
static int berth_tls_no_passphrase(char *buf, int size, int rwflag, void *u) {
    (void)buf; (void)size; (void)rwflag; (void)u;
    return -1;
}

/* The client's private key from `pem` (unencrypted), checked against the certificate: 1 on success, 0 if unreadable,
 * -1 if it does not match. */
static inline int berth_tls_ctx_use_key_pem(SSL_CTX *ctx, const char *pem, int len) {
    BIO *bio = BIO_new_mem_buf(pem, len);
    if (bio == NULL) return 0;
    EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, berth_tls_no_passphrase, NULL);
    BIO_free(bio);
    if (key == NULL) return 0;
    int ok = SSL_CTX_use_PrivateKey(ctx, key) == 1;
    EVP_PKEY_free(key);
    if (!ok) {
        /* Installing the key already compares it with the certificate. */
        int reason = ERR_GET_REASON(ERR_peek_last_error());
        return reason == X509_R_KEY_VALUES_MISMATCH || reason == X509_R_KEY_TYPE_MISMATCH ? -1 : 0;
    }
    return SSL_CTX_check_private_key(ctx) == 1 ? 1 : -1;
}

/* A client connection on `state`'s socket through berth's BIO; NULL on failure. The fd and `state` stay the caller's. */
static inline SSL *berth_tls_new(SSL_CTX *ctx, berth_bio_state *state, void *app_data) {
    BIO_METHOD *method = berth_bio_method();
    if (method == NULL) return NULL;
    SSL *ssl = SSL_new(ctx);
    if (ssl == NULL) return NULL;
    BIO *bio = BIO_new(method);
    if (bio == NULL) { SSL_free(ssl); return NULL; }
    BIO_set_data(bio, state);
    SSL_set_bio(ssl, bio, bio);
    SSL_set_connect_state(ssl);
    SSL_set_app_data(ssl, app_data);
    return ssl;
}

/*
 * The name the connection is for: SNI (host names only: RFC 6066 allows no IP literal there) and, when verifying,
 * the name or address the certificate must carry (no partial wildcards such as f*o.example.com). 1 on success.
 */
static inline int berth_tls_set_peer_name(SSL *ssl, const char *name, int is_ip, int verify) {
    if (!is_ip && !SSL_set_tlsext_host_name(ssl, name)) return 0;
    if (!verify) return 1;
    if (is_ip) return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name);
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    return SSL_set1_host(ssl, name);
}

/* SSL_get_app_data is a macro. */
static inline void *berth_tls_app_data(const SSL *ssl) { return SSL_get_app_data(ssl); }

/* errno as the BIO left it, for SSL_ERROR_SYSCALL. */
static inline int berth_tls_errno(void) { return errno; }

#endif
