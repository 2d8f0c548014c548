// Destinations berth refuses before any pool or query: port 0 (targets).
import XCTest
@testable import BerthCore

final class TargetRefusalTests: XCTestCase {
    /// Should refuse port 0 whatever the host, and no port from 1 to 65535.
    func testPortZeroIsRefusedAndEveryOtherPortIsNot() {
        for host in ["127.0.0.1", "localhost", "[::1]", "api.internal."] {
            XCTAssertEqual(PoolKey(host: host, port: 0).refusal?.contains("port 0"), true, host)
            XCTAssertNil(PoolKey(host: host, port: 1).refusal, host)
            XCTAssertNil(PoolKey(host: host, port: 65535).refusal, host)
        }
        XCTAssertEqual(PoolKey(host: "127..1", port: 80).refusal, "127..1 is not a valid host name")
    }
}
