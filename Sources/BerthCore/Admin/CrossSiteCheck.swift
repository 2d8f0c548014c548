// Refuses admin mutations that a browser sends on another site's behalf (CSRF), when no bearer token guards them.
import HTTP1

/// Decides whether an admin request with an unsafe method may run without a token.
///
/// With a token configured every request must carry it, and a page on another site cannot make a browser attach an
/// `Authorization` header (that needs a CORS preflight berth never grants), so a token is a CSRF defence by itself.
/// Without one (a loopback-only admin) any web page could POST a form to `http://127.0.0.1:9901/pause`, as pages
/// could to Envoy's admin before envoyproxy/envoy#2769. Browsers say where a request comes from, so berth checks
/// what they say:
/// - `Sec-Fetch-Site` other than `same-origin` or `none` is refused. `same-site` is refused too: another port on
///   the same host is the same site but a different origin, and a local dev server is just such a neighbour.
/// - `Origin` must be `http://` plus the request's own `Host`, and that host must name loopback (a token-less admin
///   only listens there). The second half stops DNS rebinding, where `evil.example` resolves to 127.0.0.1 and its
///   page is then same-origin with the admin port.
/// - A request with neither header does not come from a browser page (curl, scripts, the orchestrator) and passes:
///   every browser in use sends `Origin` on a cross-origin POST.
enum CrossSiteCheck {
    /// Why `head` is refused, or nil when it may run. Only methods that change something are checked.
    static func refusal(_ head: RequestHead) -> String? {
        guard head.method != .get && head.method != .head else { return nil }
        return refusal(origin: head.headers.values(named: "origin"), fetchSite: head.headers.values(named: "sec-fetch-site"),
                       host: head.headers.values(named: "host"))
    }

    /// The rule on the header values alone (all values of each, as a repeated header is itself suspicious).
    static func refusal(origin: [String], fetchSite: [String], host: [String]) -> String? {
        let advice = "send the bearer token (--admin-token-file) or use the admin's own page"
        if fetchSite.count > 1 || fetchSite.contains(where: { !allowedSites.contains($0.lowercased()) }) {
            return "cross-site admin request refused (Sec-Fetch-Site: \(fetchSite.joined(separator: ", "))); \(advice)"
        }
        guard !origin.isEmpty else { return nil }
        guard origin.count == 1, host.count == 1, let from = originAuthority(origin[0]),
              let to = Authority(parsing: Substring(host[0])), from.host == to.host, (from.port ?? 80) == (to.port ?? 80)
        else {
            return "cross-origin admin request refused (Origin: \(origin.joined(separator: ", ")), Host: \(host.joined(separator: ", "))); \(advice)"
        }
        guard namesLoopback(to.host) else {
            return "admin request for host \(to.host) refused: without a token only a loopback host name is accepted (DNS rebinding); \(advice)"
        }
        return nil
    }

    /// `same-origin`: the admin's own page; `none`: the user typed or bookmarked it.
    private static let allowedSites: Set<String> = ["same-origin", "none"]

    /// The authority of an `http://host[:port]` origin; nil for `null`, another scheme, or anything after it.
    private static func originAuthority(_ origin: String) -> Authority? {
        let prefix = "http://"
        guard origin.lowercased().hasPrefix(prefix) else { return nil }
        return Authority(parsing: origin.dropFirst(prefix.count))
    }

    /// `localhost`, an address in 127.0.0.0/8, or `[::1]`.
    private static func namesLoopback(_ host: String) -> Bool {
        if host == "localhost" { return true }
        let bare = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        return IPAddressLiteral.bytes(bare).map(IPAddressLiteral.isLoopback) ?? false
    }
}
