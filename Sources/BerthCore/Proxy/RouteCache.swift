// Remembers how a caller's previous request named its upstream, so a repeat skips parsing, allowlist and pool lookup.
import HTTP1

/// The last route of one caller connection.
struct RouteCache {
    /// Host header value, or the absolute-form target up to its path, as sent.
    var bytes: [UInt8] = []
    var isAbsolute = false
    /// The pool it led to; not used once that entry is forgotten. Strong: a weak reference costs a side table.
    var pool: Upstream?
    /// The Host header to send upstream.
    var hostValue = ""
    /// The worker's routing generation (bumped by a reload that may change the allowlist).
    var generation = 0

    /// Whether `req` names the route with the same bytes (`withRouteBytes`'s, compared by the head itself:
    /// `RequestHead.namesRoute(_:as:)`). Both are passed in place (the head inout: a method call on it copied it
    /// whole); the pool is not touched here, so the comparison takes no reference.
    mutating func matches(_ req: inout RequestHead) -> Bool {
        RequestHead.namesRoute(&req, as: bytes)
    }

    /// Remembers the route of `req` (passed in place), which led to `pool` with `hostValue`, under the worker's
    /// routing `generation`. The bytes are copied by the head itself, so nothing is called back from HTTP1; a head
    /// with no such bytes (unreachable: it would not have been routed) leaves them empty, which no request matches.
    mutating func remember(_ req: inout RequestHead, pool: Upstream, hostValue: String, generation: Int) {
        bytes.removeAll(keepingCapacity: true)
        switch req.targetForm {
        case .absolute:
            _ = req.appendSchemeAndAuthority(to: &bytes)
        case .origin, .asterisk:
            if let h = req.headers.firstIndex(named: "host") { req.headers.appendValue(at: h, to: &bytes) }
        case .authority:
            break
        }
        isAbsolute = req.targetForm == .absolute
        self.pool = pool
        self.hostValue = hostValue
        self.generation = generation
    }

    /// The bytes that name the route of `req`: its Host value, or for absolute-form the target before the path.
    /// `req` is inout so that the session's head is passed in place, not copied out of the session.
    static func withRouteBytes<R>(_ req: inout RequestHead, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
        switch req.targetForm {
        case .absolute:
            // The parser found where the authority ends, so no byte of the target is looked at again.
            return req.withSchemeAndAuthorityBytes { body($0) }
        case .origin, .asterisk:
            guard let h = req.headers.firstIndex(named: "host") else { return body(nil) }
            return req.headers.withValueBytes(at: h) { body($0) }
        case .authority:
            return body(nil)
        }
    }
}
