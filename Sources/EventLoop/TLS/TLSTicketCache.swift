// The session an upstream issued last, kept so that the next connection to it resumes instead of a full handshake.
import Glibc
internal import COpenSSL

/// One upstream's resumption state: the newest resumable session (a TLS 1.3 ticket, or a TLS 1.2 ticket or ID).
/// Touched only on its worker's thread: the connections that fill and read it live there.
///
/// One session, offered by every new connection until a newer one arrives: servers that issue stateless tickets
/// (OpenSSL's, nginx's and Go's default) accept a ticket more than once, and keeping one per connection would hold
/// a session per pooled connection for the one case (a single-use ticket store) where the next full handshake
/// replaces it anyway.
package final class TLSTicketCache {
    private var session: OpaquePointer?

    /// An empty cache.
    package init() {}

    /// Whether a session is held (expired or not).
    package var isEmpty: Bool { session == nil }

    /// Keeps a copy of `issued` in place of the one held; false when it could not be copied. A copy, not the
    /// session itself: OpenSSL marks a connection's own session not resumable when the connection is freed without
    /// close_notify (SSL_free's "bad session" rule), which is how berth drops a paused or evicted connection.
    func store(_ issued: OpaquePointer) -> Bool {
        guard let copy = SSL_SESSION_dup(issued) else {
            ERR_clear_error()
            return false
        }
        if let old = session { SSL_SESSION_free(old) }
        session = copy
        return true
    }

    /// Offers a copy of the current session to `ssl`'s handshake; nothing when there is none. A copy: the session
    /// a connection uses becomes its own, and OpenSSL marks it not resumable when the connection is freed without
    /// close_notify (a pause, an eviction, an idle timeout). Offering the cached object itself let the first such
    /// close poison the cache, so every second reconnect paid a full handshake.
    func offer(to ssl: OpaquePointer) {
        guard let cached = current(), let copy = SSL_SESSION_dup(cached) else {
            ERR_clear_error()
            return
        }
        SSL_set_session(ssl, copy)
        SSL_SESSION_free(copy)
    }

    /// The session to offer now, or nil when there is none or it has expired (which drops it).
    private func current() -> OpaquePointer? {
        guard let s = session else { return nil }
        let expires = SSL_SESSION_get_time(s) + SSL_SESSION_get_timeout(s)
        if SSL_SESSION_is_resumable(s) == 1 && expires > time(nil) { return s }
        clear()
        return nil
    }

    /// Forgets the session, so the next connection does a full handshake.
    package func clear() {
        if let old = session { SSL_SESSION_free(old) }
        session = nil
    }

    deinit { clear() }
}
