// The admin's Host rule against DNS rebinding, on the host alone (the live berth: tests/hostile/test_admin_host.py).
import XCTest
@testable import BerthCore

final class AdminHostCheckTests: XCTestCase {
    /// Should answer any IP literal, v4 or bracketed v6, loopback or not: no page can rebind an address.
    func testIPLiteralsAreAnswered() {
        for host in ["127.0.0.1", "10.1.2.3", "0.0.0.0", "[::1]", "[fe80::1]", "[::ffff:127.0.0.1]"] {
            XCTAssertTrue(AdminHostCheck.accepts(host, allowed: []), host)
        }
    }

    /// Should answer localhost (Authority has lowercased it) and the listed names, one trailing dot ignored.
    func testLocalhostAndListedNamesAreAnswered() {
        XCTAssertTrue(AdminHostCheck.accepts("localhost", allowed: []))
        XCTAssertTrue(AdminHostCheck.accepts("localhost.", allowed: []))
        XCTAssertTrue(AdminHostCheck.accepts("berth.svc", allowed: ["berth.svc"]))
        XCTAssertTrue(AdminHostCheck.accepts("berth.svc.", allowed: ["berth.svc"]))
    }

    /// Should refuse every other name, near misses included.
    func testOtherNamesAreRefused() {
        for host in ["rebind.example", "localhost.evil", "evil.localhost", "berth.svc.evil", "x.berth.svc", "127.0.0.1.nip.io",
                     "0x7f.1", "[not-v6]", "localhost.."] {
            XCTAssertFalse(AdminHostCheck.accepts(host, allowed: ["berth.svc"]), host)
        }
    }
}
