// The name of an upstream and of its pool: `host:port`, host lowercased, IPv6 in brackets.
import HTTP1

/// Identifies one upstream pool.
struct PoolKey: Hashable, Sendable, CustomStringConvertible {
    /// Lowercased host name or IP literal, IPv6 in brackets.
    let host: String
    let port: Int
    /// Canonical `host:port`.
    let description: String

    /// Canonicalises `host` (brackets added to bare IPv6, lowercased).
    init(host: String, port: Int) {
        var h = host.lowercased()
        if h.utf8.contains(UInt8(ascii: ":")) && !h.hasPrefix("[") { h = "[\(h)]" }
        self.host = h
        self.port = port
        self.description = "\(h):\(port)"
    }

    /// Parses the `upstream=HOST:PORT` form the admin API takes; nil when malformed.
    init?(parsing text: String) {
        guard let authority = Authority(parsing: Substring(text)), let port = authority.port, (1...65535).contains(port) else { return nil }
        self.init(host: authority.host, port: port)
    }

    /// The host without IPv6 brackets, as the resolver and socket calls want it.
    var bareHost: String {
        host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
    }
}
