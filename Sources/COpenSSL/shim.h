/* OpenSSL 3 for Swift: the headers EventLoop's TLS needs, static inline wrappers for OpenSSL's macros, and a BIO on berth's own sockets. */
#ifndef BERTH_COPENSSL_SHIM_H
#define BERTH_COPENSSL_SHIM_H

/* System headers first, as in CLibevent's shim: the Glibc module's types must be the ones these headers see. */
#include <errno.h>
#include <stdint.h>
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
 * SIGPIPE, whether or not the process ignores the signal. EAGAIN becomes a retry, which SSL_get_error reports as
 * SSL_ERROR_WANT_READ / SSL_ERROR_WANT_WRITE for the channel to map onto its read event and EV_WRITE.
 */
/*
 * The BIO's data: the connection's socket, and how many more bytes the SSL call under way may take from it. OpenSSL's
 * read goes on processing records that carry no data (session tickets, KeyUpdates) for as long as the socket has
 * more (and a handshake ignores HelloRequests the same way), so a peer flooding tickets held one SSL_read, and the
 * whole worker, for seconds; a budget the channel sets before each read and handshake step makes the BIO answer
 * "retry" once it is spent, the socket stays readable (level-triggered), and the rest waits for the next turn of
 * the loop. SIZE_MAX (between those calls: writes, shutdown) is no limit. Owned by the connection (TLSConnection),
 * which frees it after the SSL.
 */
typedef struct berth_bio_state {
    int fd;
    size_t budget;
} berth_bio_state;

static int berth_bio_write(BIO *b, const char *data, size_t len, size_t *written) {
    int fd = ((berth_bio_state *)BIO_get_data(b))->fd;
    BIO_clear_retry_flags(b);
    ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
    if (n >= 0) { *written = (size_t)n; return 1; }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) BIO_set_retry_write(b);
    return 0;
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
    case BIO_CTRL_FLUSH: return 1;  /* nothing is buffered here: send already handed the bytes to the kernel */
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
 * read-ahead (one recv takes every record the kernel holds), partial writes from a buffer that may move between
 * retries (the evbuffer's first chain). An EOF without close_notify stays an error (no SSL_OP_IGNORE_UNEXPECTED_EOF,
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
