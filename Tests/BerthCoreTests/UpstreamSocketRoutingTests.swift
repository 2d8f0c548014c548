// Where a connect goes: a destination's Unix socket under the upstream's own name, reloads included, and the
// Berth-Error cause of each way a connect fails.
import EventLoop
import Glibc
import XCTest
@testable import BerthCore

final class UpstreamSocketRoutingTests: XCTestCase {
    /// A manager with `destinations` (match, unix path) on a loop of its own, freed by the caller's `done`.
    func manager(_ destinations: [(String, String)]) -> (PoolManager, UpstreamResolver, () -> Void) {
        var c = BerthConfiguration(profile: "test", timeouts: Timeouts(connect: .seconds(1), socket: .seconds(1), acquire: .seconds(1)))
        c.destinations = destinations.map { match, path in
            var d = DestinationOverride(match: match)
            d.unixSocket = path
            return d
        }
        let base = EventBase()
        let m = PoolManager(base: base, settings: ManagerSettings(c))
        let r = UpstreamResolver(base: base, manager: m)
        return (m, r, { r.shutdown(); m.posted.free(); base.free() })
    }

    /// Should send a mapped upstream to its socket, with or without a pool (a tunnel has none), and leave others to DNS.
    func testAMappedUpstreamConnectsToItsSocket() {
        let (m, r, done) = manager([("fn-42:8080", "/run/fn/42/http.sock")])
        defer { done() }
        let key = PoolKey(host: "fn-42", port: 8080)
        XCTAssertEqual(r.unixAddress(for: key)?.description, "unix:/run/fn/42/http.sock", "tunnel: no pool yet")
        let pool = m.pool(for: key, now: 0)
        XCTAssertEqual(pool.key.description, "fn-42:8080", "the pool keeps the name callers use")
        XCTAssertEqual(r.unixAddress(for: key)?.path, "/run/fn/42/http.sock")
        XCTAssertNil(r.unixAddress(for: PoolKey(host: "fn-42", port: 9090)))
        XCTAssertNil(r.unixAddress(for: PoolKey(host: "127.0.0.1", port: 8080)))
    }

    /// Should follow a reload: an existing pool's next connect goes where the new configuration says.
    func testAReloadMovesTheNextConnect() {
        let (m, r, done) = manager([("fn-1:80", "/run/old.sock")])
        defer { done() }
        let key = PoolKey(host: "fn-1", port: 80)
        _ = m.pool(for: key, now: 0)
        var s = m.settings
        var d = DestinationOverride(match: "fn-1:80")
        d.unixSocket = "/run/new.sock"
        s.destinations = [d]
        m.apply(s)
        XCTAssertEqual(r.unixAddress(for: key)?.path, "/run/new.sock")
        s.destinations = []
        m.apply(s)
        XCTAssertNil(r.unixAddress(for: key), "an upstream no longer mapped goes back to TCP")
    }

    /// Should name permission errors connect-denied (only a change of permissions fixes them) and keep the rest.
    func testConnectErrorsMapToTheirCauses() {
        XCTAssertEqual(Connector.cause(ofConnectError: EACCES), .connectDenied)
        XCTAssertEqual(Connector.cause(ofConnectError: EPERM), .connectDenied)
        XCTAssertEqual(Connector.cause(ofConnectError: ENOENT), .connectRefused)
        XCTAssertEqual(Connector.cause(ofConnectError: ECONNREFUSED), .connectRefused)
        XCTAssertEqual(Connector.cause(ofConnectError: EAGAIN), .connectRefused)
        XCTAssertEqual(Connector.cause(ofConnectError: ETIMEDOUT), .connectTimeout)
        // No socket at all is berth's own shortage, not the upstream's refusal.
        XCTAssertEqual(Connector.cause(ofConnectError: EMFILE), .outOfDescriptors)
        XCTAssertEqual(Connector.cause(ofConnectError: ENFILE), .outOfDescriptors)
        XCTAssertEqual(ErrorCause.outOfDescriptors.status, 503)
        // Nor is a connect with no local port left or no kernel memory (signals: was 502 connect-refused).
        XCTAssertEqual(Connector.cause(ofConnectError: EADDRNOTAVAIL), .outOfResources)
        XCTAssertEqual(Connector.cause(ofConnectError: ENOBUFS), .outOfResources)
        XCTAssertEqual(Connector.cause(ofConnectError: ENOMEM), .outOfResources)
        XCTAssertEqual(ErrorCause.outOfResources.status, 503)
        XCTAssertEqual(ErrorCause.connectDenied.status, 502)
        XCTAssertEqual(ErrorCause.connectDenied.rawValue, "connect-denied")
    }
}
