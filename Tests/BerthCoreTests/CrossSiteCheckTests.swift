// The cross-site rule for token-less admin mutations, on header values alone (the live berth: tests/ops).
import XCTest
@testable import BerthCore

final class CrossSiteCheckTests: XCTestCase {
    private func refused(origin: [String] = [], site: [String] = [], host: [String] = ["127.0.0.1:9901"]) -> String? {
        CrossSiteCheck.refusal(origin: origin, fetchSite: site, host: host)
    }

    /// Should let through what curl, scripts and the orchestrator send: no browser headers at all.
    func testARequestWithoutBrowserHeadersRuns() {
        XCTAssertNil(refused())
        XCTAssertNil(refused(host: []))
    }

    /// Should let through the admin's own page, by IP literal, localhost or IPv6 loopback, with or without the port.
    func testTheAdminsOwnPageRuns() {
        XCTAssertNil(refused(origin: ["http://127.0.0.1:9901"], site: ["same-origin"]))
        XCTAssertNil(refused(origin: ["http://LOCALHOST:9901"], host: ["localhost:9901"]))
        XCTAssertNil(refused(origin: ["http://[::1]:9901"], host: ["[::1]:9901"]))
        XCTAssertNil(refused(origin: ["http://127.0.0.2"], host: ["127.0.0.2:80"]))
        XCTAssertNil(refused(site: ["none"]))
    }

    /// Should refuse every Fetch-metadata value but same-origin and none, and a repeated header.
    func testFetchMetadataOtherThanSameOriginIsRefused() {
        for site in ["cross-site", "same-site", "CROSS-SITE", "garbage"] {
            XCTAssertNotNil(refused(site: [site]), site)
        }
        XCTAssertNotNil(refused(site: ["same-origin", "same-origin"]))
        XCTAssertTrue(refused(site: ["cross-site"])!.contains("Sec-Fetch-Site: cross-site"))
    }

    /// Should refuse an Origin that is not exactly this listener's: another host, port or scheme, null, a path.
    func testAnotherOriginIsRefused() {
        for origin in ["http://evil.example", "http://127.0.0.1:9902", "https://127.0.0.1:9901", "null",
                       "http://127.0.0.1:9901/", "http://user@127.0.0.1:9901", "127.0.0.1:9901", ""] {
            XCTAssertNotNil(refused(origin: [origin]), origin)
        }
        XCTAssertNotNil(refused(origin: ["http://127.0.0.1:9901", "http://127.0.0.1:9901"]))
        XCTAssertNotNil(refused(origin: ["http://127.0.0.1:9901"], host: []))
        XCTAssertNotNil(refused(origin: ["http://127.0.0.1:9901"], host: ["127.0.0.1:9901", "127.0.0.1:9901"]))
    }

    /// Should refuse a same-origin request for a host name that is not loopback: DNS rebinding.
    func testDNSRebindingIsRefused() {
        let why = refused(origin: ["http://evil.example:9901"], site: ["same-origin"], host: ["evil.example:9901"])
        XCTAssertNotNil(why)
        XCTAssertTrue(why!.contains("DNS rebinding"))
        XCTAssertNotNil(refused(origin: ["http://10.0.0.5:9901"], host: ["10.0.0.5:9901"]))
    }
}
