// Listen addresses and allow rules: HOST:PORT in its IPv4, IPv6 and name forms, and CIDR blocks.
import XCTest
@testable import BerthCore

final class ConfigAddressTests: XCTestCase {
    /// Should read IPv4, bracketed IPv6, localhost and the all-interfaces shorthand, with port 0 allowed.
    func testListenAddressesInEachForm() throws {
        XCTAssertEqual(try ListenAddress.parse("127.0.0.1:0"), ListenAddress(host: "127.0.0.1", port: 0))
        XCTAssertEqual(try ListenAddress.parse("[::1]:8080"), ListenAddress(host: "::1", port: 8080))
        XCTAssertEqual(try ListenAddress.parse("localhost:3128"), ListenAddress(host: "localhost", port: 3128))
        XCTAssertEqual(try ListenAddress.parse("0.0.0.0:3128"), ListenAddress(host: "0.0.0.0", port: 3128))
        XCTAssertEqual(try ListenAddress.parse(":3128"), ListenAddress(host: "0.0.0.0", port: 3128))
        XCTAssertEqual(try ListenAddress.parse("[::]:3128"), ListenAddress(host: "::", port: 3128))
    }

    /// Should refuse a missing port, an out-of-range port, bare IPv6, host names and bracketed IPv4.
    func testMalformedListenAddressesAreRefused() {
        XCTAssertTrue(errorMessage { try ListenAddress.parse("127.0.0.1") }.contains("is not HOST:PORT"))
        XCTAssertTrue(errorMessage { try ListenAddress.parse("3128") }.contains("is not HOST:PORT"))
        XCTAssertTrue(errorMessage { try ListenAddress.parse("127.0.0.1:65536") }.contains("0 to 65535"))
        XCTAssertTrue(errorMessage { try ListenAddress.parse("127.0.0.1:-1") }.contains("0 to 65535"))
        XCTAssertTrue(errorMessage { try ListenAddress.parse("::1:8080") }.contains("in brackets"))
        XCTAssertTrue(errorMessage { try ListenAddress.parse("[::1]8080") }.contains("is not HOST:PORT"))
        XCTAssertTrue(errorMessage { try ListenAddress.parse("proxy.internal:3128") }.contains("numeric address or localhost"))
        XCTAssertTrue(errorMessage { try ListenAddress.parse("[127.0.0.1]:3128") }.contains("only IPv6"))
    }

    /// Should treat 127.0.0.0/8, ::1, IPv4-mapped loopback and localhost as loopback, and nothing else.
    func testLoopbackIsRecognised() throws {
        for text in ["127.0.0.1:1", "127.1.2.3:1", "[::1]:1", "localhost:1", "[::ffff:127.0.0.1]:1"] {
            XCTAssertTrue(try ListenAddress.parse(text).isLoopback, text)
        }
        for text in ["0.0.0.0:1", ":1", "[::]:1", "10.0.0.1:1", "[::2]:1"] {
            XCTAssertFalse(try ListenAddress.parse(text).isLoopback, text)
        }
    }

    /// Should read IPv4 and IPv6 blocks into bytes and prefix length, and a bare address as a single host.
    func testCIDRBlocksAreParsed() throws {
        XCTAssertEqual(try AllowRule.parse("10.0.0.0/8"), .cidr(address: [10, 0, 0, 0], bits: 8))
        XCTAssertEqual(try AllowRule.parse("0.0.0.0/0"), .cidr(address: [0, 0, 0, 0], bits: 0))
        XCTAssertEqual(try AllowRule.parse("10.0.0.5"), .cidr(address: [10, 0, 0, 5], bits: 32))
        XCTAssertEqual(try AllowRule.parse("fd00::/8"), .cidr(address: [0xfd] + Array(repeating: 0, count: 15), bits: 8))
        XCTAssertEqual(try AllowRule.parse("::1"), .cidr(address: Array(repeating: 0, count: 15) + [1], bits: 128))
        XCTAssertEqual(try AllowRule.parse("2001:db8::/32").description, "2001:db8:0:0:0:0:0:0/32")
    }

    /// Should refuse prefixes out of range, set host bits, and malformed addresses.
    func testMalformedCIDRBlocksAreRefused() {
        XCTAssertTrue(errorMessage { try AllowRule.parse("10.0.0.0/33") }.contains("must be 0 to 32"))
        XCTAssertTrue(errorMessage { try AllowRule.parse("fd00::/129") }.contains("must be 0 to 128"))
        XCTAssertTrue(errorMessage { try AllowRule.parse("10.0.0.0/") }.contains("must be 0 to 32"))
        XCTAssertTrue(errorMessage { try AllowRule.parse("10.0.0.0/x") }.contains("must be 0 to 32"))
        XCTAssertEqual(errorMessage { try AllowRule.parse("10.1.2.3/8") },
                       "\"10.1.2.3/8\" has address bits set past /8; did you mean 10.0.0.0/8?")
        XCTAssertTrue(errorMessage { try AllowRule.parse("10.0.0.256/32") }.contains("is not an IP address"))
        XCTAssertTrue(errorMessage { try AllowRule.parse("fd00:::1/64") }.contains("is not an IP address"))
    }

    /// Should lowercase host names, accept a *.domain pattern, and refuse names with bad characters.
    func testHostRulesAreNormalised() throws {
        XCTAssertEqual(try AllowRule.parse("API.Internal"), .host("api.internal"))
        XCTAssertEqual(try AllowRule.parse("api.internal."), .host("api.internal"))
        XCTAssertEqual(try AllowRule.parse("*.Example.com"), .host("*.example.com"))
        XCTAssertTrue(errorMessage { try AllowRule.parse("bad_host") }.contains("is not a host name"))
        XCTAssertTrue(errorMessage { try AllowRule.parse("*") }.contains("is not a host name"))
        XCTAssertTrue(errorMessage { try AllowRule.parse("a..b") }.contains("is not a host name"))
        XCTAssertTrue(errorMessage { try AllowRule.parse("-a.b") }.contains("is not a host name"))
    }
}
