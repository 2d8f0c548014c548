// Precedence between sources: flags over environment over file over profile.
import XCTest
@testable import BerthCore

final class ConfigPrecedenceTests: XCTestCase {
    let file = """
        profile: cross-region
        socket-timeout: 3s
        max-total: 300
        allow: [10.0.0.0/8]
        log-format: json
        """

    /// Should take a value from the file over the profile.
    func testTheFileOverridesTheProfile() throws {
        let configuration = try resolve(["config": ["berth.yaml"]], files: ["berth.yaml": file])
        XCTAssertEqual(configuration.profile, "cross-region")
        XCTAssertEqual(configuration.timeouts.socket, .seconds(3))
        XCTAssertEqual(configuration.timeouts.connect, .seconds(10))
        XCTAssertEqual(configuration.limits.maxTotal, 300)
        XCTAssertEqual(configuration.logFormat, .json)
    }

    /// Should take the environment over the file, including the file's own location and the profile.
    func testTheEnvironmentOverridesTheFile() throws {
        let configuration = try resolve(environment: [
            "BERTH_CONFIG": "berth.yaml", "BERTH_PROFILE": "same-region", "BERTH_SOCKET_TIMEOUT": "4s",
            "BERTH_ALLOW": "192.168.0.0/16, api.internal", "BERTH_LOG_FORMAT": "logfmt",
        ], files: ["berth.yaml": file])
        XCTAssertEqual(configuration.profile, "same-region")
        XCTAssertEqual(configuration.timeouts.socket, .seconds(4))
        XCTAssertEqual(configuration.allow, [.cidr(address: [192, 168, 0, 0], bits: 16), .host("api.internal")])
        XCTAssertEqual(configuration.logFormat, .logfmt)
        XCTAssertEqual(configuration.limits.maxTotal, 300, "keys the environment leaves alone still come from the file")
    }

    /// Should take a flag over the environment and the file.
    func testAFlagOverridesTheEnvironmentAndTheFile() throws {
        let configuration = try resolve(
            ["config": ["berth.yaml"], "socket-timeout": ["5s"], "max-total": ["400"], "allow": ["api.internal", "db.internal"]],
            environment: ["BERTH_SOCKET_TIMEOUT": "4s", "BERTH_MAX_TOTAL": "350"],
            files: ["berth.yaml": file])
        XCTAssertEqual(configuration.timeouts.socket, .seconds(5))
        XCTAssertEqual(configuration.limits.maxTotal, 400)
        XCTAssertEqual(configuration.allow, [.host("api.internal"), .host("db.internal")])
    }

    /// Should read a config file named by BERTH_CONFIG, and prefer --config over it.
    func testConfigFlagBeatsBerthConfig() throws {
        let files = ["a.yaml": "profile: same-region", "b.yaml": "profile: max-timeout"]
        XCTAssertEqual(try resolve(environment: ["BERTH_CONFIG": "a.yaml"], files: files).profile, "same-region")
        XCTAssertEqual(try resolve(["config": ["b.yaml"]], environment: ["BERTH_CONFIG": "a.yaml"], files: files).profile, "max-timeout")
    }

    /// Should read booleans, the empty Via and comma-separated CONNECT ports from the environment.
    func testEnvironmentValuesOfEachKind() throws {
        let configuration = try resolve(environment: [
            "BERTH_PROFILE": "same-region", "BERTH_METRICS_PER_UPSTREAM": "false", "BERTH_ACCESS_LOG": "true",
            "BERTH_VIA": "", "BERTH_CONNECT_PORT": "443,8443", "BERTH_LOG_LEVEL": "DEBUG",
        ])
        XCTAssertFalse(configuration.metricsPerUpstream)
        XCTAssertTrue(configuration.accessLog)
        XCTAssertNil(configuration.via)
        XCTAssertEqual(configuration.connectPorts, [443, 8443])
        XCTAssertEqual(configuration.logLevel, .debug)
    }

    /// Should ignore unknown BERTH_ variables, which Kubernetes injects for a service named berth.
    func testUnknownBerthVariablesAreIgnored() throws {
        XCTAssertNoThrow(try resolve(environment: ["BERTH_PROFILE": "same-region", "BERTH_PORT": "tcp://10.0.0.1:3128"]))
    }

    /// Should name the environment variable that holds a bad value.
    func testABadEnvironmentValueNamesTheVariable() {
        let message = errorMessage { try resolve(environment: ["BERTH_PROFILE": "same-region", "BERTH_WORKERS": "0"]) }
        XCTAssertEqual(message, "BERTH_WORKERS: \"0\" must be at least 1")
    }

    /// Should name the flag that holds a bad value.
    func testABadFlagValueNamesTheFlag() {
        let message = errorMessage { try resolve(["profile": ["same-region"], "workers": ["65"]]) }
        XCTAssertEqual(message, "--workers: \"65\" is out of range (1 to 64)")
    }
}
