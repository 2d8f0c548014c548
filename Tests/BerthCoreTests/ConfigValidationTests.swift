// Rules over the whole configuration: no accidental open proxy, a token on a public admin port, sane limits.
import XCTest
@testable import BerthCore

final class ConfigValidationTests: XCTestCase {
    /// Should refuse a non-loopback listener without an allow list, so berth is never an accidental open proxy.
    func testAPublicListenerNeedsAnAllowList() throws {
        let message = errorMessage { try resolve(["profile": ["same-region"], "listen": ["0.0.0.0:3128"]]) }
        XCTAssertTrue(message.hasPrefix("listen 0.0.0.0:3128 is reachable from other machines, so allow must list"), message)
        XCTAssertTrue(message.contains("open proxy"))
        XCTAssertNoThrow(try resolve(["profile": ["same-region"], "listen": [":3128"], "allow": ["10.0.0.0/8"]]))
    }

    /// Should refuse limits too small to give every worker a share of at least one.
    func testEachWorkerNeedsAShareOfEveryLimit() {
        let message = errorMessage { try resolve(["profile": ["same-region"], "workers": ["4"], "max-per-route": ["3"]]) }
        XCTAssertTrue(message.hasPrefix("max-per-route (3) is below workers (4)"), message)
        XCTAssertNoThrow(try resolve(["profile": ["same-region"], "workers": ["4"], "max-per-route": ["4"]]))
    }

    /// Should accept a loopback listener with no allow list.
    func testALoopbackListenerMayAllowAnything() throws {
        XCTAssertEqual(try resolve(["profile": ["same-region"], "listen": ["[::1]:0"]]).allow, [])
    }

    /// Should require a token file on a non-loopback admin listener.
    func testAPublicAdminListenerNeedsAToken() {
        let message = errorMessage { try resolve(["profile": ["same-region"], "admin": ["0.0.0.0:9901"]]) }
        XCTAssertEqual(message, "admin 0.0.0.0:9901 is reachable from other machines, so admin-token-file is required")
    }

    /// Should read the admin token, trimmed, into the configuration.
    func testTheAdminTokenIsReadAndTrimmed() throws {
        let configuration = try resolve(
            ["profile": ["same-region"], "admin": ["0.0.0.0:9901"], "admin-token-file": ["/run/token"]],
            files: ["/run/token": "  s3cret\n"])
        XCTAssertEqual(configuration.adminToken, "s3cret")
        XCTAssertEqual(configuration.adminTokenFile, "/run/token")
    }

    /// Should refuse a missing or empty token file.
    func testAMissingOrEmptyTokenFileIsRefused() {
        let flags = ["profile": ["same-region"], "admin-token-file": ["/run/token"]]
        XCTAssertEqual(errorMessage { try resolve(flags) },
                       "admin-token-file: cannot read /run/token: No such file or directory")
        XCTAssertEqual(errorMessage { try resolve(flags, files: ["/run/token": " \n"]) },
                       "admin-token-file: /run/token is empty")
    }

    /// Should refuse a per-route limit above the total, globally and per destination.
    func testPerRouteLimitsMayNotExceedTheTotal() {
        XCTAssertEqual(errorMessage { try resolve(["profile": ["same-region"], "max-per-route": ["201"]]) },
                       "max-per-route (201) exceeds max-total (200); write it at most 200")
        let file = "profile: same-region\ndestinations:\n  - {match: a.internal, max-per-route: 500}\n"
        XCTAssertEqual(errorMessage { try resolve(["config": ["b.yaml"]], files: ["b.yaml": file]) },
                       "destination a.internal: max-per-route (500) exceeds max-total (200); write it at most 200")
    }

    /// Should refuse zero and negative limits, and workers outside 1...64.
    func testLimitsMustBePositive() {
        XCTAssertEqual(errorMessage { try resolve(["profile": ["same-region"], "max-total": ["0"]]) },
                       "--max-total: \"0\" must be at least 1")
        XCTAssertEqual(errorMessage { try resolve(["profile": ["same-region"], "max-pending": ["-5"]]) },
                       "--max-pending: \"-5\" is not a whole number")
        XCTAssertEqual(errorMessage { try resolve(["profile": ["same-region"], "workers": ["0"]]) },
                       "--workers: \"0\" must be at least 1")
    }

    /// Should refuse the proxy and admin listeners on the same address.
    func testListenAndAdminMustDiffer() {
        XCTAssertEqual(errorMessage { try resolve(["profile": ["same-region"], "admin": ["127.0.0.1:3128"]]) },
                       "listen and admin are both 127.0.0.1:3128; give them different ports")
    }

    /// Should refuse CONNECT ports outside 1...65535.
    func testConnectPortsAreChecked() {
        XCTAssertEqual(errorMessage { try resolve(["profile": ["same-region"], "connect-port": ["443", "0"]]) },
                       "--connect-port: \"0\" is not a port (1 to 65535)")
    }
}
