// Destinations berth refuses before any pool or query: port 0 and the IPv4 shorthands inet_aton reads (targets).
import XCTest
@testable import BerthCore

final class TargetRefusalTests: XCTestCase {
    /// Should name the dotted quad each shorthand stands for, as glibc's inet_aton (and so curl) reads it.
    func testShorthandsAreReadAsInetAtonReadsThem() {
        let cases = ["127.1": "127.0.0.1", "127.0.1": "127.0.0.1", "0x7f.0.0.1": "127.0.0.1", "0x7f.1": "127.0.0.1",
                     "0177.0.0.1": "127.0.0.1", "2130706433": "127.0.0.1", "017700000001": "127.0.0.1",
                     "0x7f000001": "127.0.0.1", "127.0.0.01": "127.0.0.1", "127.1.": "127.0.0.1", "0": "0.0.0.0",
                     "10.1": "10.0.0.1", "192.168.257": "192.168.1.1"]
        for (host, dotted) in cases {
            XCTAssertEqual(PoolKey.shorthandIPv4(host), dotted, host)
            let key = PoolKey(host: host, port: 80)
            XCTAssertFalse(key.isResolvable, host)
            XCTAssertEqual(key.refusal?.contains("write it dotted, as \(dotted)"), true, host)
        }
    }

    /// Should leave canonical literals, names, and what inet_aton refuses (so glibc resolves it as a name) alone.
    func testCanonicalLiteralsAndNamesAreNoShorthand() {
        for host in ["127.0.0.1", "127.0.0.1.", "10.0.0.1", "[::1]", "::ffff:127.0.0.1", "localhost", "fn_1", "1e100",
                     "1.2.3.4.5", "256.1", "08.1", "99999999999", "1a2b3c4d5e6f", "0x", "api.internal."] {
            XCTAssertNil(PoolKey.shorthandIPv4(host), host)
        }
        for host in ["127.0.0.1", "127.0.0.1.", "localhost", "1e100", "1.2.3.4.5", "[::1]"] {
            XCTAssertNil(PoolKey(host: host, port: 80).refusal, host)
        }
    }

    /// Should refuse port 0 whatever the host, and no port from 1 to 65535.
    func testPortZeroIsRefusedAndEveryOtherPortIsNot() {
        for host in ["127.0.0.1", "localhost", "[::1]", "api.internal."] {
            XCTAssertEqual(PoolKey(host: host, port: 0).refusal?.contains("port 0"), true, host)
            XCTAssertNil(PoolKey(host: host, port: 1).refusal, host)
            XCTAssertNil(PoolKey(host: host, port: 65535).refusal, host)
        }
        XCTAssertEqual(PoolKey(host: "127..1", port: 80).refusal, "127..1 is not a valid host name")
    }

    /// Should name an IPv6 literal by one spelling whatever the caller wrote, an IPv4-mapped one by its IPv4 address,
    /// and read a destination's `[v6]:port` match the same way (adv6: each spelling made an upstream a pause missed).
    func testIPLiteralsHaveOneSpelling() {
        for host in ["[0::1]", "[0:0:0:0:0:0:0:1]", "0000::0001", "[::0:1]"] {
            XCTAssertEqual(PoolKey(host: host, port: 80).description, "[::1]:80", host)
        }
        XCTAssertEqual(PoolKey(host: "[FD00:0:0::0A]", port: 80).description, "[fd00::a]:80")
        for host in ["[::ffff:127.0.0.1]", "[::FFFF:7f00:1]", "0:0:0:0:0:ffff:127.0.0.1"] {
            XCTAssertEqual(PoolKey(host: host, port: 80).description, "127.0.0.1:80", host)
        }
        XCTAssertEqual(PoolKey(parsing: "[0:0::1]:9")?.description, "[::1]:9")
        XCTAssertEqual(try DestinationOverride.normalizeMatch("[0::1]:8080"), "[::1]:8080")
        XCTAssertEqual(try DestinationOverride.normalizeMatch("[::ffff:10.0.0.5]:8080"), "10.0.0.5:8080")
        XCTAssertThrowsError(try DestinationOverride.normalizeMatch("[10.0.0.5]:8080"))
    }
}
