// Request methods: the well-known ones as cases so matching them never allocates.

/// A request method.
public enum HTTPMethod: Hashable, Sendable {
    case get, head, post, put, delete, connect, options, trace, patch
    case other(String)

    /// The method as written on the wire.
    public var rawValue: String {
        switch self {
        case .get: return "GET"
        case .head: return "HEAD"
        case .post: return "POST"
        case .put: return "PUT"
        case .delete: return "DELETE"
        case .connect: return "CONNECT"
        case .options: return "OPTIONS"
        case .trace: return "TRACE"
        case .patch: return "PATCH"
        case .other(let s): return s
        }
    }

    /// RFC 9110 idempotent methods, the ones a proxy may retry.
    public var isIdempotent: Bool {
        switch self {
        case .get, .head, .put, .delete, .options, .trace: return true
        case .post, .connect, .patch, .other: return false
        }
    }

    /// The method of a request line at `p`, whose method token ends at `end`, where the line holds an SP (the
    /// parser checked it). Fast path: `GET` and `POST`, most requests, are one word compare each, their SP or last
    /// letter included (the line's bytes, so the load stays inside it); `fromToken`'s call and byte loop cost ~32
    /// instructions for `GET`.
    @inline(__always)
    static func fromRequestLine(_ p: UnsafeRawPointer, end: Int) -> HTTPMethod {
        if end == 3 && UInt32(littleEndian: p.loadUnaligned(as: UInt32.self)) == 0x2054_4547 { return .get }   // "GET "
        if end == 4 && UInt32(littleEndian: p.loadUnaligned(as: UInt32.self)) == 0x5453_4F50 { return .post }  // "POST"
        return fromToken(UnsafeRawBufferPointer(start: p, count: end))
    }

    /// Stores `m` in `slot`. Fast path: over a known method (no String, nothing to release) `m` is written without
    /// the outlined consume of the old value (a call) that an assignment to an enum with a String payload makes.
    @inline(__always)
    static func store(_ m: HTTPMethod, in slot: inout HTTPMethod) {
        if case .other = slot { slot = m } else { withUnsafeMutablePointer(to: &slot) { $0.initialize(to: m) } }
    }

    /// Maps token bytes to a case; methods are case-sensitive, so `get` is `.other("get")`.
    static func fromToken(_ p: UnsafeRawBufferPointer) -> HTTPMethod {
        func eq(_ s: StaticString) -> Bool {
            guard s.utf8CodeUnitCount == p.count else { return false }
            let q = s.utf8Start
            for i in 0..<p.count where p[i] != q[i] { return false }
            return true
        }
        switch p.count {
        case 3: if eq("GET") { return .get }; if eq("PUT") { return .put }
        case 4: if eq("POST") { return .post }; if eq("HEAD") { return .head }
        case 5: if eq("PATCH") { return .patch }; if eq("TRACE") { return .trace }
        case 6: if eq("DELETE") { return .delete }
        case 7: if eq("CONNECT") { return .connect }; if eq("OPTIONS") { return .options }
        default: break
        }
        return .other(String(decoding: p, as: UTF8.self))
    }
}
