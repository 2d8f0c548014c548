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
