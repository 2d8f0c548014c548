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
///
/// Kept as its DER encoding (`i2d_SSL_SESSION`: the leaf certificate, the ticket, the secrets), as nginx keeps its
/// upstream sessions, and only up to `maxSize` bytes. An `SSL_SESSION` object also holds the peer's whole chain,
/// parsed: a hostile origin's 100 KB chain (OpenSSL's limit) kept about 230 KiB per upstream, times `max-upstreams`
/// (10,000 a worker by default). A resumption needs none of the chain. Decoding costs a few microseconds per new
/// connection, next to a handshake's milliseconds; nothing per request.
package final class TLSTicketCache {
    /// The largest session kept, in DER bytes: twice nginx's 4 KiB (a large multi-name leaf certificate and a
    /// ticket fit); a larger one is not kept, and the next connection does a full handshake.
    package static let maxSize = 8192

    private var der: [UInt8] = []
    /// When the held session stops being worth offering (its time plus its timeout, in seconds since the epoch).
    private var expires = 0

    /// An empty cache.
    package init() {}

    /// Whether a session is held (expired or not).
    package var isEmpty: Bool { der.isEmpty }

    /// Keeps `issued`'s encoding in place of the one held; false when it is too large or could not be encoded (the
    /// one held stays). The session itself stays OpenSSL's: OpenSSL marks a connection's own session not resumable
    /// when the connection is freed without close_notify (SSL_free's "bad session" rule), which is how berth drops
    /// a paused or evicted connection; an encoding is not touched by that.
    func store(_ issued: OpaquePointer) -> Bool {
        let size = i2d_SSL_SESSION(issued, nil)
        guard size > 0, Int(size) <= Self.maxSize else {
            ERR_clear_error()
            return false
        }
        var bytes = [UInt8](repeating: 0, count: Int(size))
        let written = bytes.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var cursor = buffer.baseAddress
            return i2d_SSL_SESSION(issued, &cursor)
        }
        guard written == size else {
            ERR_clear_error()
            return false
        }
        der = bytes
        expires = Int(SSL_SESSION_get_time(issued)) + Int(SSL_SESSION_get_timeout(issued))
        return true
    }

    /// Offers the held session to `ssl`'s handshake, decoded afresh: each connection gets a session of its own, so
    /// one connection's close without close_notify cannot make the cache unresumable. Nothing when none is held;
    /// an expired or unreadable one is dropped.
    func offer(to ssl: OpaquePointer) {
        guard !der.isEmpty else { return }
        guard expires > time(nil) else { return clear() }
        let decoded = der.withUnsafeBufferPointer { buffer -> OpaquePointer? in
            var cursor = buffer.baseAddress
            return d2i_SSL_SESSION(nil, &cursor, buffer.count)
        }
        guard let session = decoded else {
            ERR_clear_error()
            return clear()
        }
        if SSL_SESSION_is_resumable(session) == 1 {
            SSL_set_session(ssl, session)
        } else {
            clear()
        }
        SSL_SESSION_free(session)
    }

    /// Forgets the session, so the next connection does a full handshake.
    package func clear() {
        der = []
        expires = 0
    }
}
