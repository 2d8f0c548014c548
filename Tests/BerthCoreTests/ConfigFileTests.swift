// The YAML file: keys mirror the flags, errors name file, line and key, and destinations override per upstream.
import XCTest
@testable import BerthCore

final class ConfigFileTests: XCTestCase {
    /// Resolves `text` as berth.yaml with no other sources.
    func resolveFile(_ text: String) throws(ConfigError) -> BerthConfiguration {
        try resolve(["config": ["berth.yaml"]], files: ["berth.yaml": text])
    }

    /// Should name the file, line and key of a bad value, with a hint on how to write it.
    func testABadValueNamesFileLineAndKey() {
        let message = errorMessage { try resolveFile("profile: same-region\n\n# timeouts\nsocket-timeout: abc\n") }
        XCTAssertEqual(message, "berth.yaml:4: socket-timeout: \"abc\" is not a duration (write 125ms, 2s or 5m)")
    }

    /// Should refuse an unknown key, naming its line, and suggest the kebab-case key for a snake_case one.
    func testAnUnknownKeyIsRefused() {
        XCTAssertEqual(errorMessage { try resolveFile("profile: same-region\nsocket_timeout: 2s\n") },
                       "berth.yaml:2: socket_timeout: unknown key (did you mean socket-timeout?)")
        XCTAssertTrue(errorMessage { try resolveFile("profile: same-region\ncolour: blue\n") }
            .hasPrefix("berth.yaml:2: colour: unknown key"))
    }

    /// Should refuse a key written twice, naming both lines.
    func testADuplicateKeyIsRefused() {
        XCTAssertEqual(errorMessage { try resolveFile("profile: same-region\nworkers: 2\nworkers: 3\n") },
                       "berth.yaml:3: workers: appears twice (first on line 2)")
    }

    /// Should report a YAML syntax error with its line.
    func testASyntaxErrorNamesItsLine() {
        let message = errorMessage { try resolveFile("profile: same-region\nallow: [10.0.0.0/8\n") }
        XCTAssertTrue(message.hasPrefix("berth.yaml:"), message)
        XCTAssertTrue(message.contains("YAML syntax error"), message)
    }

    /// Should report the first bad line when several are bad, whatever the keys' order in the table.
    func testTheFirstBadLineIsReported() {
        XCTAssertEqual(errorMessage { try resolveFile("profile: same-region\nworkers: 0\nmax-total: x\n") },
                       "berth.yaml:2: workers: \"0\" must be at least 1")
        XCTAssertEqual(errorMessage { try resolveFile("profile: same-region\nmax-total: x\nworkers: 0\n") },
                       "berth.yaml:2: max-total: \"x\" is not a whole number")
    }

    /// Should refuse a list for a single-valued key and a scalar where a mapping of settings is expected.
    func testShapesAreChecked() {
        XCTAssertEqual(errorMessage { try resolveFile("profile: same-region\nworkers: [1, 2]\n") },
                       "berth.yaml:2: workers: takes one value, not a list or mapping")
        XCTAssertTrue(errorMessage { try resolveFile("just text") }.contains("must be a mapping of settings"))
    }

    /// Should read every kind of value the flags take.
    func testEveryKindOfValueIsRead() throws {
        let configuration = try resolveFile("""
            profile: same-region
            listen: "[::1]:8080"
            admin: 127.0.0.1:0
            allow: [10.0.0.0/8, API.Internal, "*.example.com"]
            connect-port: [443, 8443]
            workers: 4
            max-pending: 50
            max-requests-per-connection: 500
            idle-timeout: 2s
            max-connection-age: 1m
            header-timeout: 5s
            caller-idle-timeout: 30s
            drain-timeout: 20s
            socket-timeout-ceiling: 10m
            metrics-per-upstream: no
            access-log: true
            log-level: warning
            via: ""
            """)
        XCTAssertEqual(configuration.listen, ListenAddress(host: "::1", port: 8080))
        XCTAssertEqual(configuration.admin, ListenAddress(host: "127.0.0.1", port: 0))
        XCTAssertEqual(configuration.allow, [.cidr(address: [10, 0, 0, 0], bits: 8), .host("api.internal"), .host("*.example.com")])
        XCTAssertEqual(configuration.connectPorts, [443, 8443])
        XCTAssertEqual(configuration.workers, 4)
        XCTAssertEqual(configuration.limits.maxPending, 50)
        XCTAssertEqual(configuration.limits.maxRequestsPerConnection, 500)
        XCTAssertEqual(configuration.timeouts.idle, .seconds(2))
        XCTAssertEqual(configuration.timeouts.maxConnectionAge, .seconds(60))
        XCTAssertEqual(configuration.timeouts.headerRead, .seconds(5))
        XCTAssertEqual(configuration.timeouts.callerIdle, .seconds(30))
        XCTAssertEqual(configuration.timeouts.drain, .seconds(20))
        XCTAssertEqual(configuration.timeouts.socketCeiling, .seconds(600))
        XCTAssertFalse(configuration.metricsPerUpstream)
        XCTAssertTrue(configuration.accessLog)
        XCTAssertEqual(configuration.logLevel, .warning)
        XCTAssertNil(configuration.via)
    }

    /// Should read destination overrides matched by host:port, host and CIDR.
    func testDestinationOverridesAreRead() throws {
        let configuration = try resolveFile("""
            profile: same-region
            destinations:
              - {match: "10.0.0.5:8080", socket-timeout: 30s, max-per-route: 10, max-pending: 50}
              - match: Reports.Internal
                socket-timeout: 2m
              - match: 10.1.0.0/16
                max-per-route: 20
            """)
        var first = DestinationOverride(match: "10.0.0.5:8080")
        first.socketTimeout = .seconds(30)
        first.maxPerRoute = 10
        first.maxPending = 50
        var second = DestinationOverride(match: "reports.internal")
        second.socketTimeout = .seconds(120)
        var third = DestinationOverride(match: "10.1.0.0/16")
        third.maxPerRoute = 20
        XCTAssertEqual(configuration.destinations, [first, second, third])
    }

    /// Should refuse a malformed match, an unknown destination key, a missing match and a bad value, with their lines.
    func testDestinationErrorsNameTheirLine() {
        let head = "profile: same-region\ndestinations:\n"
        XCTAssertEqual(errorMessage { try resolveFile(head + "  - match: 10.0.0.0/33\n") },
                       "berth.yaml:3: destinations[0].match: \"10.0.0.0/33\" is not a CIDR block: the prefix length must be 0 to 32")
        XCTAssertEqual(errorMessage { try resolveFile(head + "  - match: a.internal:99999\n") },
                       "berth.yaml:3: destinations[0].match: \"99999\" is not a port (1 to 65535)")
        XCTAssertEqual(errorMessage { try resolveFile(head + "  - match: bad_host!\n") },
                       "berth.yaml:3: destinations[0].match: \"bad_host!\" is not a host, host:port or CIDR block")
        XCTAssertTrue(errorMessage { try resolveFile(head + "  - match: a.internal\n    timeout: 2s\n") }
            .hasPrefix("berth.yaml:4: destinations[0].timeout: unknown key"))
        XCTAssertEqual(errorMessage { try resolveFile(head + "  - socket-timeout: 2s\n") },
                       "berth.yaml:3: destinations[0]: needs a match: host, host:port or CIDR block")
        XCTAssertEqual(errorMessage { try resolveFile(head + "  - match: a.internal\n    max-pending: 0\n") },
                       "berth.yaml:4: destinations[0].max-pending: \"0\" must be at least 1")
    }

    /// Should print an effective configuration that reads back to the same configuration.
    func testTheRenderedConfigurationReadsBack() throws {
        var original = try resolveFile("""
            profile: max-timeout
            listen: 0.0.0.0:3128
            allow: [10.0.0.0/8, "*.example.com", "fd00::/8"]
            connect-timeout: 1.5s
            via: "1.1 my proxy"
            destinations:
              - {match: "[::1]:8080", socket-timeout: 30s}
            """)
        let rendered = original.renderedAsYAML()
        let reread = try resolveFile(rendered)
        original.adminToken = nil
        XCTAssertEqual(reread, original, rendered)
    }
}
