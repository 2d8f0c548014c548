// The freezer keys: a destination's cgroup directory and the cgroup v1 poll interval, read and refused clearly.
import XCTest
@testable import BerthCore

final class ConfigFreezerTests: XCTestCase {
    let head = "profile: same-region\ndestinations:\n"

    /// Resolves `text` as berth.yaml with no other sources.
    func resolveFile(_ text: String) throws(ConfigError) -> BerthConfiguration {
        try resolve(["config": ["berth.yaml"]], files: ["berth.yaml": text])
    }

    /// Should read a destination's freezer path, trailing slashes dropped.
    func testADestinationNamesItsCgroup() throws {
        let c = try resolveFile(head + "  - {match: \"10.0.0.5:8080\", freezer: /sys/fs/cgroup/system.slice/docker-1.scope/}\n")
        XCTAssertEqual(c.destinations.first?.freezer, "/sys/fs/cgroup/system.slice/docker-1.scope")
    }

    /// Should refuse a relative path, with the line and the form to write.
    func testARelativePathIsRefused() {
        XCTAssertEqual(errorMessage { try resolveFile(head + "  - {match: \"10.0.0.5:8080\", freezer: docker-1.scope}\n") },
                       "berth.yaml:3: destinations[0].freezer: \"docker-1.scope\" is not an absolute path to a cgroup directory, such as /sys/fs/cgroup/system.slice/docker-ID.scope")
        XCTAssertTrue(errorMessage { try resolveFile(head + "  - {match: \"10.0.0.5:8080\", freezer: /}\n") }.contains("is not an absolute path"))
    }

    /// Should refuse a freezer on a host or CIDR match: one cgroup is one container, one host:port.
    func testAFreezerNeedsAHostAndPort() {
        XCTAssertEqual(errorMessage { try resolveFile(head + "  - {match: 10.0.0.0/8, freezer: /sys/fs/cgroup/x}\n") },
                       "destination 10.0.0.0/8: freezer needs a match of the form host:port (the container's upstream), not a host or CIDR block")
        XCTAssertTrue(errorMessage { try resolveFile(head + "  - {match: api.internal, freezer: /sys/fs/cgroup/x}\n") }
            .hasPrefix("destination api.internal: freezer needs a match of the form host:port"))
    }

    /// Should have no flag or variable for the per-destination key, and refuse it at the top of the file.
    func testTheFreezerIsOnlyAPerDestinationKey() {
        XCTAssertFalse(ConfigKey.topLevel.contains(.freezer))
        XCTAssertEqual(try resolve(["profile": ["same-region"]], environment: ["BERTH_FREEZER": "/sys/fs/cgroup/x"]).destinations, [])
        XCTAssertEqual(errorMessage { try resolveFile("profile: same-region\nfreezer: /sys/fs/cgroup/x\n") },
                       "berth.yaml:2: freezer: " + KeyDefinition.destinationOnlyProblem.message)
    }

    /// Should read the v1 poll interval as a duration, default 100ms.
    func testThePollIntervalIsADuration() throws {
        XCTAssertEqual(try resolve(["profile": ["same-region"]]).timeouts.freezerPoll, .milliseconds(100))
        XCTAssertEqual(try resolve(["profile": ["same-region"], "freezer-poll-interval": ["20ms"]]).timeouts.freezerPoll, .milliseconds(20))
        XCTAssertTrue(errorMessage { try resolve(["profile": ["same-region"], "freezer-poll-interval": ["0ms"]]) }
            .hasPrefix("--freezer-poll-interval: "))
    }
}
