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
