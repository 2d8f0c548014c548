// Refuses admin requests whose Host names another site (DNS rebinding): only IP literals, localhost and admin-hosts.
import HTTP1

/// Decides whether the admin listener answers a request for the host it names, whatever its method or path.
///
/// DNS rebinding: a page on `evil.example` makes its name resolve to 127.0.0.1, and the browser then treats the
/// admin port as the page's own origin, so it may read /stats and post /pause. The browser still sends
/// `Host: evil.example`. A browser names an address it was given as that address, so an IP literal (v4, or v6 in
/// brackets) cannot be a rebinding, nor can `localhost`, which no outside DNS answers; any other name must be one
/// the operator listed in `admin-hosts` (for a scraper that addresses berth by a service name). The rest get 421
/// Misdirected Request, as a server answers a request for an authority it is not configured for (RFC 9110 15.5.20).
/// A request without a Host (HTTP/1.0, or an empty one) passes: every browser sends one. The codec already answers
/// 400 to an HTTP/1.1 request without one, and to two of them (RFC 9112 3.2). An absolute-form target names the host
/// the request is for, and Host is ignored then (RFC 9112 3.2.2), so it is the target's authority that is checked.
enum AdminHostCheck {
    /// Why `head` is refused, or nil when it may be answered.
    static func refusal(_ head: RequestHead, allowed: [String]) -> String? {
        if let target = head.targetAuthority {
            guard accepts(target.host, allowed: allowed) else { return message(for: target.host) }
            return nil
        }
        guard let value = head.headers["host"], !value.isEmpty else { return nil }
        guard let authority = Authority(parsing: Substring(value)), accepts(authority.host, allowed: allowed) else {
            return message(for: value)
        }
        return nil
    }

    /// The refusal's text for a request that named `host`.
    private static func message(for host: String) -> String {
        "admin request for host \(host) refused: the admin answers IP addresses, localhost and the names "
            + "listed in admin-hosts (DNS rebinding); see api.md"
    }

    /// Whether `host` (lowercased, an IPv6 literal in brackets, as Authority gives it) is one the admin answers.
    static func accepts(_ host: String, allowed: [String]) -> Bool {
        if host.hasPrefix("[") { return IPAddressLiteral.bytes(String(host.dropFirst().dropLast())) != nil }
        if IPAddressLiteral.bytes(host) != nil { return true }
        // One trailing dot names the same host (`localhost.`), as HostName normalises admin-hosts.
        let name = host.hasSuffix(".") ? String(host.dropLast()) : host
        return name == "localhost" || allowed.contains(name)
    }
}
