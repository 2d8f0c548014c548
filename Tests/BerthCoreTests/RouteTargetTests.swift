// RouteTarget: whether a request travels over TLS, with which settings, and to which port.
import XCTest
import EventLoop
import HTTP1
@testable import BerthCore

final class RouteTargetTests: XCTestCase {
    /// Manager settings with these destination entries and global switch.
    func settings(_ destinations: [DestinationOverride] = [], tlsByDefault: Bool = false) -> ManagerSettings {
        var c = BerthConfiguration(defaultsFor: TimeoutProfile.all[0])
        c.destinations = destinations
        c.tls = tlsByDefault
        return ManagerSettings(c)
    }

    /// A destination entry matching `match` with `tls`.
    func entry(_ match: String, _ tls: DestinationTLS?) -> DestinationOverride {
        var d = DestinationOverride(match: match)
        d.tls = tls
        return d
    }

    /// Should keep http:// plain, on port 80 when none is named, with no TLS entry anywhere.
    func testPlainHTTPStaysPlain() {
        let key = RouteTarget.key(.http, Authority(host: "api.internal", port: nil), settings: settings())
        XCTAssertNil(key.tls)
        XCTAssertEqual(key.description, "api.internal:80")
    }

    /// Should take https:// over TLS with the safe defaults and port 443, and name the pool https://.
    func testHTTPSUsesTheDefaults() {
        let key = RouteTarget.key(.https, Authority(host: "api.internal", port: nil), settings: settings())
        XCTAssertEqual(key.tls, TLSSettings())
        XCTAssertEqual(key.tls?.verify, true)
        XCTAssertEqual(key.description, "https://api.internal:443")
        XCTAssertEqual(key.endpoint, "api.internal:443")
        XCTAssertEqual(key.peerName, "api.internal")
    }

    /// Should upgrade http:// to a destination whose entry says tls, keeping a named port and taking 443 otherwise.
    func testADestinationEntryUpgradesHTTP() {
        var custom = TLSSettings()
        custom.serverName = "svc.example"
        let s = settings([entry("api.internal", .on(custom))])
        let named = RouteTarget.key(.http, Authority(host: "api.internal", port: 8443), settings: s)
        XCTAssertEqual(named.tls, custom)
        XCTAssertEqual(named.port, 8443)
        XCTAssertEqual(named.peerName, "svc.example")
        XCTAssertEqual(RouteTarget.key(.http, Authority(host: "api.internal", port: nil), settings: s).port, 443)
        // The admin API and the pool manager name endpoints with their port: the same settings apply.
        XCTAssertEqual(RouteTarget.resolve(PoolKey(host: "api.internal", port: 8443), settings: s), named)
    }

    /// Should apply the global switch to destinations without an entry, and let `tls: false` opt out of it only for http://.
    func testTheGlobalSwitchAndTheOptOut() {
        let s = settings([entry("10.0.0.5", .off)], tlsByDefault: true)
        XCTAssertEqual(RouteTarget.resolve(PoolKey(host: "api.internal", port: 443), settings: s).tls, TLSSettings())
        XCTAssertNil(RouteTarget.resolve(PoolKey(host: "10.0.0.5", port: 80), settings: s).tls)
        // A caller that asks for https:// gets TLS whatever the entry says.
        XCTAssertEqual(RouteTarget.secure(PoolKey(host: "10.0.0.5", port: 443), settings: s).tls, TLSSettings())
    }

    /// Should let the first matching entry decide, as for every per-destination setting.
    func testTheFirstMatchingEntryDecides() {
        var strict = TLSSettings()
        strict.minVersion = .v1_3
        let s = settings([entry("api.internal:443", .on(strict)), entry("api.internal", .off)])
        XCTAssertEqual(RouteTarget.resolve(PoolKey(host: "api.internal", port: 443), settings: s).tls, strict)
        XCTAssertNil(RouteTarget.resolve(PoolKey(host: "api.internal", port: 80), settings: s).tls)
    }

    /// Should keep pools apart by TLS settings: same endpoint, other name or trust, other key.
    func testPoolKeysDifferByTLSSettings() {
        var a = TLSSettings()
        a.serverName = "a.example"
        var b = a
        b.serverName = "b.example"
        let plain = PoolKey(host: "10.0.0.5", port: 443)
        XCTAssertNotEqual(plain.with(tls: a), plain.with(tls: b))
        XCTAssertNotEqual(plain.with(tls: a), plain)
        XCTAssertEqual(plain.with(tls: a).plain, plain)
        // The context is shared: the name plays no part in it.
        XCTAssertEqual(a.contextIdentity, b.contextIdentity)
        XCTAssertTrue(DestinationMatcher.matches("10.0.0.5:443", key: plain.with(tls: a)))
    }

    /// Should map the scheme names the codec gives, and nothing else.
    func testSchemes() {
        XCTAssertEqual(RouteTarget.Scheme("http"), .http)
        XCTAssertEqual(RouteTarget.Scheme("https"), .https)
        XCTAssertNil(RouteTarget.Scheme("ftp"))
        XCTAssertNil(RouteTarget.Scheme(nil))
    }
    /// Should give a key the pool manager would not resolve again: `poolForRequest(routed: true)` skips that step
    /// for a key from `RouteTarget.key`, which is the same pool only if resolving it is a no-op. Every scheme, host
    /// spelling (case, trailing dot, IPv6), port and kind of entry (on, off, by port, the global switch).
    func testARoutedKeyIsWhatResolvingItAgainGives() {
        var custom = TLSSettings()
        custom.serverName = "svc.example"
        let configs: [ManagerSettings] = [
            settings(), settings(tlsByDefault: true),
            settings([entry("api.internal", .on(custom))]), settings([entry("api.internal", .off)], tlsByDefault: true),
            settings([entry("api.internal:443", .on(custom)), entry("api.internal", .off)]),
            settings([entry("api.internal:80", .on(TLSSettings()))]), settings([entry("10.0.0.5", .on(custom))]),
            settings([entry("[::1]:8443", .on(custom))], tlsByDefault: true),
        ]
        let hosts = ["api.internal", "API.Internal.", "api.internal.", "10.0.0.5", "::1", "other"]
        for (n, s) in configs.enumerated() {
            for scheme in [RouteTarget.Scheme.http, .https] {
                for host in hosts {
                    for port in [nil, 80, 443, 8443] as [Int?] {
                        let key = RouteTarget.key(scheme, Authority(host: host, port: port), settings: s)
                        guard key.tls == nil else { continue }  // the old path took a TLS key as it came, too
                        XCTAssertEqual(RouteTarget.resolve(key, settings: s), key, "config \(n), \(scheme) \(host) \(port ?? -1)")
                    }
                }
            }
        }
    }

    /// Should find the same pool for a routed key whether or not the manager resolves it (the routed shortcut):
    /// nothing made twice, a trailing-dot host and a destination's TLS upgrade included.
    func testPoolForRequestRoutedFindsThePoolTheFullLookupFinds() {
        var c = BerthConfiguration(profile: "test", timeouts: Timeouts(connect: .seconds(1), socket: .seconds(1), acquire: .seconds(1)))
        var up = DestinationOverride(match: "api.internal")
        up.tls = .on(TLSSettings())
        var off = DestinationOverride(match: "10.0.0.5")
        off.tls = .off
        c.destinations = [up, off]
        c.tls = true
        let base = EventBase()
        let m = PoolManager(base: base, settings: ManagerSettings(c))
        defer { m.posted.free(); base.free() }
        for (scheme, host, port) in [(RouteTarget.Scheme.http, "api.internal.", nil), (.http, "API.internal", 8080),
                                     (.https, "api.internal", nil), (.http, "10.0.0.5", nil), (.http, "10.0.0.5.", 81),
                                     (.http, "other", nil), (.https, "10.0.0.5", nil)] as [(RouteTarget.Scheme, String, Int?)] {
            let key = RouteTarget.key(scheme, Authority(host: host, port: port), settings: m.settings)
            let routed = m.poolForRequest(key, routed: true, now: 0)
            let full = m.poolForRequest(key, now: 0)
            XCTAssertTrue(routed != nil && routed === full, "\(scheme) \(host) \(port ?? -1)")
        }
    }

    /// The head `text` (one whole request head), parsed.
    func head(_ text: String) -> RequestHead {
        var p = RequestHeadParser()
        var h = RequestHead()
        let bytes = Array(text.utf8)
        let done = bytes.withUnsafeBytes { try? p.parse($0) }
        guard case .complete? = done else { preconditionFailure("not one whole head: \(text)") }
        p.takeHead(into: &h)
        return h
    }

    /// Should route a head in one step: absolute-form over Host, the Host field for origin-form, a CONNECT's
    /// target for a tunnel, and a refusal (with berth's cause) for a scheme it does not proxy or no Host at all.
    func testRouteOfAHead() {
        let s = settings()
        guard case .pool(let key, let hostValue) = RouteTarget.route(of: head("GET http://API.internal:8080/x HTTP/1.1\r\nHost: other\r\n\r\n"), settings: s) else {
            return XCTFail("absolute-form not routed")
        }
        XCTAssertEqual(key.description, "api.internal:8080")
        XCTAssertEqual(hostValue, "api.internal:8080")
        XCTAssertTrue(key.isResolvable)
        guard case .pool(let k2, let h2) = RouteTarget.route(of: head("GET /x HTTP/1.1\r\nHost: Api.Internal\r\n\r\n"), settings: s) else {
            return XCTFail("origin-form not routed")
        }
        XCTAssertEqual(k2.description, "api.internal:80")
        XCTAssertEqual(h2, "Api.Internal")
        guard case .tunnel(let t) = RouteTarget.route(of: head("CONNECT db.internal:5432 HTTP/1.1\r\nHost: db.internal:5432\r\n\r\n"), settings: s) else {
            return XCTFail("CONNECT not a tunnel")
        }
        XCTAssertEqual(t.description, "db.internal:5432")
        guard case .refused(let cause, _) = RouteTarget.route(of: head("GET /x HTTP/1.0\r\n\r\n"), settings: s) else {
            return XCTFail("no Host routed")
        }
        XCTAssertEqual(cause, .badRequest)
    }

    /// Should judge a key resolvable when it is made, whatever way it is made, and leave that out of its identity.
    func testResolvableIsJudgedAtConstruction() {
        let bad = PoolKey(host: "bad host", port: 80)
        XCTAssertFalse(bad.isResolvable)
        XCTAssertTrue(PoolKey(host: "[::1]", port: 80).isResolvable)
        XCTAssertTrue(PoolKey(host: "::1", port: 80).isResolvable)
        XCTAssertTrue(PoolKey(host: "fn_1.", port: 80).otherSpelling!.isResolvable)
        XCTAssertEqual(PoolKey(parsing: "api.internal:80")!, PoolKey(host: "API.internal", port: 80))
    }
}
