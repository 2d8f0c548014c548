// Which pool a request goes to, from its scheme and authority: the port each scheme implies, and whether it is TLS.
import HTTP1

/// The one place that decides whether a request travels over TLS, and with which settings: `https://` always does
/// (with the destination's `tls` settings, or the safe defaults), `http://` and origin-form requests do when the
/// destination's entry (or, without one, the global `tls`) says so. The key it returns names the pool.
enum RouteTarget {
    /// The schemes berth proxies.
    enum Scheme: Sendable {
        case http, https

        /// The scheme of an absolute-form target (lowercased by the codec); nil for any other scheme.
        init?(_ name: String?) {
            switch name {
            case "http": self = .http
            case "https": self = .https
            default: return nil
            }
        }

        /// The port a target without one means.
        var defaultPort: Int { self == .https ? 443 : 80 }
    }

    /// Where a request head says it goes.
    enum Route {
        /// A pool's key, and the Host value to send upstream (the target's authority, or the Host field as sent).
        case pool(PoolKey, hostValue: String)
        /// A CONNECT's target (authority-form).
        case tunnel(PoolKey)
        /// The head names no destination berth proxies to: berth answers with `cause`.
        case refused(ErrorCause, detail: String)
    }

    /// The route of `req`, with its key, in one step from the head (the scheme, the authority, and the key they and
    /// the destination settings make). Absolute-form wins over Host, as RFC 9112 3.2.2 requires of a proxy.
    static func route(of req: RequestHead, settings: ManagerSettings) -> Route {
        let authority: Authority
        let hostValue: String
        let scheme: Scheme
        switch req.targetForm {
        case .absolute:
            guard let a = req.targetAuthority, let s = Scheme(req.scheme) else {
                return .refused(.notImplemented, detail: "only http:// and https:// targets are proxied")
            }
            scheme = s
            authority = a
            hostValue = a.port.map { "\(a.host):\($0)" } ?? a.host
        case .authority:
            guard let a = req.targetAuthority, let port = a.port else {
                return .refused(.badRequest, detail: "CONNECT needs host:port")
            }
            return .tunnel(PoolKey(host: a.host, port: port))
        case .origin, .asterisk:
            guard let host = req.headers["host"], let a = Authority(parsing: Substring(host)) else {
                return .refused(.badRequest, detail: "no Host header to route by")
            }
            scheme = Scheme(req.scheme) ?? .http
            authority = a
            hostValue = host
        }
        return .pool(key(scheme, authority, settings: settings), hostValue: hostValue)
    }

    /// The pool key for `scheme` and `authority`. A port-less `http://` request that its destination's settings
    /// upgrade goes to 443: callers told to send plain http:// to an HTTPS service name no port.
    static func key(_ scheme: Scheme, _ authority: Authority, settings: ManagerSettings) -> PoolKey {
        let endpoint = PoolKey(host: authority.host, port: authority.port ?? scheme.defaultPort)
        let tls = settingsForTLS(scheme, endpoint, settings: settings)
        guard let tls else { return endpoint }
        let port = authority.port ?? Scheme.https.defaultPort
        return PoolKey(host: endpoint.host, port: port, tls: tls)
    }

    /// The key a plain key (an endpoint named with its port, as the admin API and http:// routing do) leads to.
    static func resolve(_ plain: PoolKey, settings: ManagerSettings) -> PoolKey {
        plain.with(tls: settingsForTLS(.http, plain, settings: settings))
    }

    /// The key an `https://` request to `endpoint` leads to.
    static func secure(_ endpoint: PoolKey, settings: ManagerSettings) -> PoolKey {
        endpoint.with(tls: settingsForTLS(.https, endpoint, settings: settings))
    }

    /// The TLS settings for `scheme` to `endpoint`, nil for plain. The first destination entry that matches decides,
    /// as it does for every per-destination setting; `tls: false` cannot make an https:// request plain.
    private static func settingsForTLS(_ scheme: Scheme, _ endpoint: PoolKey, settings: ManagerSettings) -> TLSSettings? {
        let entry = settings.destinations.first { DestinationMatcher.matches($0.match, key: endpoint) }?.tls
        switch (scheme, entry) {
        case (_, .on(let configured)?): return configured
        case (.https, _): return TLSSettings()
        case (.http, .off?): return nil
        case (.http, nil): return settings.tlsByDefault ? TLSSettings() : nil
        }
    }
}
