// Timeout profiles: their values, the required choice, and acquire following connect.
import XCTest
@testable import BerthCore

final class ConfigProfileTests: XCTestCase {
    /// Should give each profile the canonical HttpClient timeouts and pool sizes.
    func testEachProfileSetsItsTimeoutsAndLimits() throws {
        let expected: [(String, Duration, Duration, Duration)] = [
            ("same-region", .milliseconds(125), .milliseconds(125), .milliseconds(125)),
            ("same-region-failover", .seconds(1), .seconds(1), .seconds(1)),
            ("cross-region", .seconds(10), .seconds(10), .seconds(10)),
            ("max-timeout", .seconds(60), .seconds(300), .seconds(60)),
        ]
        XCTAssertEqual(TimeoutProfile.all.map(\.name), expected.map(\.0))
        for (name, connect, socket, acquire) in expected {
            let configuration = try resolve(["profile": [name]])
            XCTAssertEqual(configuration.profile, name)
            XCTAssertEqual(configuration.timeouts.connect, connect, name)
            XCTAssertEqual(configuration.timeouts.socket, socket, name)
            XCTAssertEqual(configuration.timeouts.acquire, acquire, name)
            XCTAssertEqual(configuration.limits.maxTotal, 200, name)
            XCTAssertEqual(configuration.limits.maxPerRoute, 100, name)
        }
    }

    /// Should refuse to start without a profile, listing every profile and what it sets.
    func testAMissingProfileListsEveryProfile() {
        let message = errorMessage { try resolve() }
        XCTAssertTrue(message.hasPrefix("a timeout profile is required"))
        for profile in TimeoutProfile.all { XCTAssertTrue(message.contains(profile.name), profile.name) }
        XCTAssertTrue(message.contains("max-timeout           1m       5m      1m       200        100"), message)
    }

    /// Should name an unknown profile where it was written and list the real ones.
    func testAnUnknownProfileIsNamedAndTheProfilesListed() {
        let message = errorMessage { try resolve(environment: ["BERTH_PROFILE": "fast"]) }
        XCTAssertTrue(message.hasPrefix("BERTH_PROFILE: unknown profile \"fast\"."), message)
        for profile in TimeoutProfile.all { XCTAssertTrue(message.contains(profile.name), profile.name) }
    }

    /// Should let the acquire timeout follow an overridden connect timeout, as HttpClient does.
    func testAcquireFollowsAnOverriddenConnectTimeout() throws {
        let configuration = try resolve(["profile": ["same-region"], "connect-timeout": ["300ms"]])
        XCTAssertEqual(configuration.timeouts.connect, .milliseconds(300))
        XCTAssertEqual(configuration.timeouts.acquire, .milliseconds(300))
    }

    /// Should keep an explicit acquire timeout even when connect is overridden from a higher source.
    func testAnExplicitAcquireTimeoutIsKept() throws {
        let configuration = try resolve(
            ["profile": ["same-region"], "connect-timeout": ["300ms"]], environment: ["BERTH_ACQUIRE_TIMEOUT": "50ms"])
        XCTAssertEqual(configuration.timeouts.acquire, .milliseconds(50))
    }

    /// Should leave the socket timeout at the profile's value when only connect changes.
    func testOverridingConnectLeavesSocketAlone() throws {
        let configuration = try resolve(["profile": ["max-timeout"], "connect-timeout": ["2s"]])
        XCTAssertEqual(configuration.timeouts.socket, .seconds(300))
    }
}
