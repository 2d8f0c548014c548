// The tls settings in the file: true, false or a mapping; every problem with its line; files checked; warnings.
import Foundation
import XCTest
@testable import BerthCore

final class ConfigTLSTests: XCTestCase {
    /// A CA certificate made with the openssl tool for this run (a trust file must hold a real certificate).
    static let caPEM: String = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("berth-config-tls-\(getpid())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let cert = dir.appendingPathComponent("ca.pem").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        p.arguments = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                       "-keyout", dir.appendingPathComponent("ca.key").path, "-out", cert, "-days", "1", "-subj", "/CN=t"]
        p.standardError = FileHandle.nullDevice
        try? p.run()
        p.waitUntilExit()
        return (try? String(contentsOfFile: cert, encoding: .utf8)) ?? ""
    }()

    /// The configuration from a file with `destinations`, and any other files.
    func load(_ destinations: String, files: [String: String] = [:]) throws(ConfigError) -> ConfigurationLoader.Resolution {
        var all = files
        all["berth.yaml"] = "profile: same-region\ndestinations:\n" + destinations
        return try ConfigurationLoader.load(flags: ConfigFlags([.config: ["berth.yaml"]]), environment: [:],
                                            readFile: InMemoryFiles(files: all).reader)
    }

    /// Should read true, false and a mapping into the destination's TLS choice.
    func testTrueFalseAndAMapping() throws {
        let c = try load("""
              - match: a.internal
                tls: true
              - match: b.internal
                tls: false
              - match: c.internal
                tls: {server-name: svc.example, min-version: "1.3", verify: true}
            """).configuration
        XCTAssertEqual(c.destinations.map(\.tls), [.on(TLSSettings()), .off, .on({
            var s = TLSSettings()
            s.serverName = "svc.example"
            s.minVersion = .v1_3
            return s
        }())])
    }

    /// Should name the line of the entry inside the mapping that is wrong, and of the mapping itself otherwise.
    func testProblemsNameTheirLine() {
        XCTAssertEqual(errorMessage { try load("  - match: a\n    tls:\n      verify: true\n      min-version: 1.1\n") },
                       "berth.yaml:6: destinations[0].tls.min-version: \"1.1\" is not a TLS version (write 1.2 or 1.3)")
        XCTAssertEqual(errorMessage { try load("  - match: a\n    tls: {ca: x}\n") },
                       "berth.yaml:4: destinations[0].tls.ca: unknown key (tls may set verify, ca-file, server-name, client-cert, client-key, min-version)")
        XCTAssertEqual(errorMessage { try load("  - match: a\n    tls:\n      client-key: k.pem\n") },
                       "berth.yaml:5: destinations[0].tls.client-key: needs client-cert as well")
        XCTAssertEqual(errorMessage { try load("  - match: a\n    tls: [x]\n") },
                       "berth.yaml:4: destinations[0].tls: takes one value")
        XCTAssertEqual(errorMessage { try load("  - match: a\n    socket-timeout: {a: b}\n") },
                       "berth.yaml:4: destinations[0].socket-timeout: takes one value")
    }

    /// Should read the files the settings name as the server will, and name the line of the one at fault.
    func testFilesAreCheckedWithTheirLine() throws {
        XCTAssertEqual(errorMessage { try load("  - match: a\n    tls:\n      ca-file: /no/such.pem\n") },
                       "berth.yaml:5: destinations[0].tls.ca-file: cannot read /no/such.pem: No such file or directory")
        XCTAssertTrue(errorMessage { try load("  - match: a\n    tls: {ca-file: x.pem}\n", files: ["x.pem": "not a certificate\n"]) }
            .hasPrefix("berth.yaml:4: destinations[0].tls.ca-file: x.pem is not PEM certificates") ||
            errorMessage { try load("  - match: a\n    tls: {ca-file: x.pem}\n", files: ["x.pem": "not a certificate\n"]) }
            .hasPrefix("berth.yaml:4: destinations[0].tls.ca-file: x.pem holds no PEM certificate"))
        XCTAssertFalse(Self.caPEM.isEmpty, "openssl made a CA")
        let ok = try load("  - match: a\n    tls: {ca-file: ca.pem}\n", files: ["ca.pem": Self.caPEM])
        XCTAssertEqual(ok.warnings, [])
    }

    /// Should warn, naming the line, when a destination's certificates are not verified.
    func testVerificationOffIsWarnedAbout() throws {
        let r = try load("  - match: a.internal\n    tls:\n      verify: false\n")
        XCTAssertEqual(r.warnings.count, 1)
        XCTAssertTrue(r.warnings[0].hasPrefix("berth.yaml:5: destinations[0].tls.verify: false: the certificates of a.internal are not checked"), r.warnings[0])
    }

    /// Should print the settings as YAML that reads back to the same (check-config's output is a config file).
    func testRenderingReadsBack() throws {
        let c = try load("  - match: a\n    tls: {verify: false, server-name: \"x.example\", min-version: \"1.3\"}\n  - match: b\n    tls: false\n").configuration
        let yaml = c.renderedAsYAML()
        XCTAssertTrue(yaml.contains("    tls: {verify: false, server-name: x.example, min-version: \"1.3\"}\n"), yaml)
        XCTAssertTrue(yaml.contains("    tls: false"), yaml)
        let again = try ConfigurationLoader.load(flags: ConfigFlags([.config: ["r.yaml"]]), environment: [:],
                                                 readFile: InMemoryFiles(files: ["r.yaml": yaml]).reader).configuration
        XCTAssertEqual(again.destinations, c.destinations)
    }
}
