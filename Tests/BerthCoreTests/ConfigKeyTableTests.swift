// The key table proves itself: every row has a flag, a variable, a YAML key, help, a check-config line and a log
// field, and every row's example survives flag -> configuration -> check-config -> file. No test here names a key
// it checks, so a new row is covered without an edit here.
import Foundation
import XCTest
@testable import BerthCore

final class ConfigKeyTableTests: XCTestCase {
    /// The file every source test starts from: the profile is the one key without a default.
    let baseFile = "profile: \(TimeoutProfile.all[0].name)\n"

    /// Any path reads as the base file, so `config` and `admin-token-file` examples find a file, unless `files` has it.
    func reader(_ files: [String: String] = [:]) -> ConfigurationLoader.FileReader {
        let base = baseFile
        return { path in files[path] ?? base }
    }

    /// The configuration from the base file plus `flags`, `environment` and any `files`.
    func load(_ flags: [ConfigKey: [String]] = [:], environment: [String: String] = [:], files: [String: String] = [:])
        throws(ConfigError) -> ConfigurationLoader.Resolution {
        var given = ConfigFlags(flags)
        if given[.config] == nil, environment[ConfigKey.config.environmentVariable] == nil { given[.config] = ["base.yaml"] }
        return try ConfigurationLoader.load(flags: given, environment: environment, readFile: reader(files), readSecret: reader(files))
    }

    /// `key` set to `values` as a YAML line: a flow sequence for a list, a quoted scalar otherwise.
    func yamlLine(_ key: ConfigKey, _ values: [String]) -> String {
        let quoted = values.map { "\"\($0)\"" }
        return "\(key.name): " + (key.isList ? "[" + quoted.joined(separator: ", ") + "]" : quoted[0])
    }

    /// The rendered line that shows `key`: its own, or its target's for an alias; nil if there is none.
    func renderedLine(of key: ConfigKey, in rendering: String) -> String? {
        let shown = key.aliasTarget ?? key
        return rendering.split(separator: "\n").map(String.init)
            .first { $0.hasPrefix("\(shown.name): ") || $0.hasPrefix("# \(shown.name): ") }
    }

    /// Should give every key a flag, a BERTH_ variable and a YAML key that all set the same value, help naming the
    /// variable, a check-config line and a startup-log field that both show the value.
    func testEveryKeyHasAFlagAVariableAYAMLKeyHelpARenderingLineAndALogField() throws {
        let baseline = try load().configuration
        for key in ConfigKey.topLevel {
            let definition = key.definition
            let example = definition.example
            XCTAssertFalse(example.isEmpty, key.name)
            XCTAssertTrue(key.isList || example.count == 1, "\(key.name): one example value for a single-valued key")

            let viaFlag = try load([key: example])
            XCTAssertNotEqual(viaFlag.configuration, baseline, "\(key.name): the flag's example changes nothing")

            let viaVariable = try load(environment: [key.environmentVariable: example.joined(separator: ",")])
            XCTAssertEqual(viaVariable.configuration, viaFlag.configuration, "\(key.name): \(key.environmentVariable)")

            if definition.inFile {
                let viaFile = try load(files: ["base.yaml": (key == .profile ? "" : baseFile) + yamlLine(key, example)])
                XCTAssertEqual(viaFile.configuration, viaFlag.configuration, "\(key.name): the YAML key")
            } else {
                let message = errorMessage { try load(files: ["base.yaml": baseFile + yamlLine(key, example)]) }
                XCTAssertEqual(message, "base.yaml:2: \(key.name): cannot be set inside a configuration file")
            }

            XCTAssertFalse(definition.summary.isEmpty, key.name)
            XCTAssertTrue(key.help.hasPrefix(definition.summary), key.help)
            XCTAssertTrue(key.help.hasSuffix("[\(key.environmentVariable)]"), key.help)
            XCTAssertFalse(key.valueName.isEmpty, key.name)

            let line = try XCTUnwrap(renderedLine(of: key, in: viaFlag.configuration.renderedAsYAML()), "\(key.name): no check-config line")
            XCTAssertNotEqual(line, renderedLine(of: key, in: baseline.renderedAsYAML()), "\(key.name): check-config does not show the value")

            let field = try XCTUnwrap((key.aliasTarget ?? key).logField, "\(key.name): no startup log field")
            XCTAssertNotNil(baseline.startupLogMetadata[field], "\(key.name): \(field) missing from the startup log")
            XCTAssertNotEqual(viaFlag.configuration.startupLogMetadata[field], baseline.startupLogMetadata[field],
                              "\(key.name): the startup log does not show the value")
            XCTAssertEqual(viaFlag.warnings.isEmpty, key.aliasTarget == nil, "\(key.name): only a deprecated alias warns")
        }
    }

    /// Should change no other key's check-config line when a key is set, except the keys that follow it and, for the
    /// profile, the keys it provides: two rows writing one field would show up here.
    func testEachKeyLandsInAFieldOfItsOwn() throws {
        let lines = { (configuration: BerthConfiguration) in
            Dictionary(uniqueKeysWithValues: ConfigKey.topLevel.map { key in (key, self.renderedLine(of: key, in: configuration.renderedAsYAML())) })
        }
        let profileDriven = Set(ConfigKey.topLevel.filter { key in
            TimeoutProfile.all.contains { profile in
                lines(BerthConfiguration(defaultsFor: profile))[key] != lines(BerthConfiguration(defaultsFor: TimeoutProfile.all[0]))[key]
            }
        })
        XCTAssertTrue(profileDriven.isSuperset(of: [.connectTimeout, .socketTimeout, .acquireTimeout]), "\(profileDriven)")
        let baseline = lines(try load().configuration)
        for key in ConfigKey.topLevel {
            let changed = lines(try load([key: key.definition.example]).configuration)
            var allowed: Set<ConfigKey> = [key, key.aliasTarget ?? key]
            allowed.formUnion(ConfigKey.topLevel.filter { $0.definition.follows == key || $0.aliasTarget == key })
            if key == .profile { allowed.formUnion(profileDriven) }
            for other in ConfigKey.topLevel where !allowed.contains(other) {
                XCTAssertEqual(changed[other], baseline[other], "setting \(key.name) changed \(other.name)")
            }
        }
    }

    /// Should read back every key's example from check-config's output: flag -> configuration -> YAML -> the same.
    func testEveryKeyRoundTripsThroughCheckConfig() throws {
        for key in ConfigKey.topLevel {
            let original = try load([key: key.definition.example]).configuration
            try assertReadsBack(original, key.name)
        }
    }

    /// Should read back every example at once, with a destination setting every per-destination key.
    func testAllExamplesTogetherRoundTrip() throws {
        let keys = ConfigKey.topLevel.filter { $0.aliasTarget == nil && $0.definition.inFile }
        var file = keys.map { yamlLine($0, $0.definition.example) }.joined(separator: "\n")
        // host:port, the one form every per-destination key takes (freezer needs it).
        file += "\ndestinations:\n  - match: api.internal:8080\n"
        for key in ConfigKey.allCases where key.definition.destination != nil {
            file += "    \(key.name): \(key.definition.example[0])\n"
        }
        let original = try load(files: ["base.yaml": file]).configuration
        XCTAssertFalse(original.destinations.isEmpty)
        try assertReadsBack(original, "all examples")
    }

    /// Should read every destination-only key from a destinations entry, print it there in check-config and read it
    /// back, and refuse it as a flag, a variable and a top-level key with a message that says where it goes.
    func testDestinationOnlyKeysLiveInDestinationsAndNowhereElse() throws {
        let keys = ConfigKey.allCases.filter { !$0.definition.topLevel }
        XCTAssertFalse(keys.isEmpty)
        for key in keys {
            let example = key.definition.example[0]
            XCTAssertNotNil(key.definition.destination, "\(key.name) has no destination field")
            XCTAssertNil(key.logField, key.name)
            XCTAssertFalse(ConfigKey.topLevel.contains(key), key.name)
            // host:port: some destination keys (freezer) need the exact upstream.
            let file = baseFile + "destinations:\n  - match: api.internal:8080\n    \(key.name): \(example)\n"
            let configuration = try load(files: ["base.yaml": file]).configuration
            XCTAssertNotEqual(configuration.destinations, [DestinationOverride(match: "api.internal:8080")], "\(key.name): the example changes nothing")
            XCTAssertTrue(configuration.renderedAsYAML().contains("\n    \(key.name): \(example.yamlQuoted)"), configuration.renderedAsYAML())
            try assertReadsBack(configuration, key.name)

            let expected = "is set per destination: write it in an entry of the file's destinations list, next to its match"
            XCTAssertEqual(errorMessage { try load(files: ["base.yaml": baseFile + yamlLine(key, [example])]) },
                           "base.yaml:2: \(key.name): \(expected)")
            XCTAssertEqual(errorMessage { try load([key: [example]]) }, "--\(key.name): \(expected)")
            // Not a variable: BERTH_UNIX means nothing, as any unknown BERTH_ variable (Kubernetes injects some).
            XCTAssertEqual(try load(environment: [key.environmentVariable: example]).configuration, try load().configuration)
        }
    }

    /// Asserts that `original` rendered as YAML, read as its own config file, gives itself and the same text.
    func assertReadsBack(_ original: BerthConfiguration, _ what: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let rendered = original.renderedAsYAML()
        let path = try XCTUnwrap(original.configFile, file: file, line: line)
        let reread = try load([.config: [path]], files: [path: rendered]).configuration
        XCTAssertEqual(reread, original, "\(what):\n\(rendered)", file: file, line: line)
        XCTAssertEqual(reread.renderedAsYAML(), rendered, what, file: file, line: line)
    }

    /// Should give every destination-only key a destination field that reads back through check-config, and no
    /// Should list every key's flag and variable in docs/configuration.md, and every destination-only key.
    func testTheDocsListEveryKey() throws {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/configuration.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        for key in ConfigKey.topLevel {
            XCTAssertTrue(text.contains("`--\(key.name)"), "docs/configuration.md lacks --\(key.name)")
            XCTAssertTrue(text.contains("`\(key.environmentVariable)`"), "docs/configuration.md lacks \(key.environmentVariable)")
        }
        for key in ConfigKey.allCases where !key.definition.topLevel {
            XCTAssertTrue(text.contains("| `\(key.name)` |") || text.contains("`\(key.name):"), "docs/configuration.md lacks the destination key \(key.name)")
        }
    }

    /// Should keep every default the settings had before the table (the profile's five come from the profile).
    func testTheDefaultsAreTheOnesBeforeTheTable() throws {
        let rendering = try load().configuration.renderedAsYAML()
        let expected = [
            "listen: \"127.0.0.1:3128\"", "admin: \"127.0.0.1:9901\"", "max-total: 200", "max-per-route: 100",
            "max-pending: 1000", "connect-timeout: 125ms", "socket-timeout: 125ms", "acquire-timeout: 125ms",
            "idle-timeout: 4s", "max-requests-per-connection: 10000", "max-connection-age: 5m", "header-timeout: 10s",
            "caller-idle-timeout: 1m", "drain-timeout: 10s", "socket-timeout-ceiling: 5m", "allow: []",
            "connect-port: [443]", "workers: 1", "admin-token-file: \"\"", "metrics-upstreams: active",
            "log-format: logfmt", "log-level: info", "access-log: false", "via: \"1.1 berth\"",
            "listen-socket-mode: \"0660\"", "listen-socket-owner: \"\"", "admin-socket-mode: \"0600\"", "admin-socket-owner: \"\"",
        ]
        for line in expected { XCTAssertTrue(rendering.contains("\n\(line)\n"), "\(line) in\n\(rendering)") }
        XCTAssertEqual(try load().configuration, BerthConfiguration(defaultsFor: TimeoutProfile.all[0]).with(configFile: "base.yaml"))
    }

    /// Should build a configuration by hand with the table's defaults, as the in-process tests do.
    func testAHandBuiltConfigurationTakesTheTableDefaults() {
        let configuration = BerthConfiguration(profile: "test", timeouts: Timeouts(connect: .seconds(2), socket: .seconds(5), acquire: .seconds(2)))
        XCTAssertEqual(configuration.timeouts.idle, .seconds(4))
        XCTAssertEqual(configuration.timeouts.headerRead, .seconds(10))
        XCTAssertEqual(configuration.limits, PoolLimits())
        XCTAssertEqual(configuration.limits.maxPending, 1000)
        XCTAssertEqual(configuration.metricsUpstreams, .active)
        XCTAssertEqual(configuration.via, "1.1 berth")
    }
}

extension BerthConfiguration {
    /// A copy read from `path`.
    func with(configFile path: String) -> BerthConfiguration {
        var copy = self
        copy.configFile = path
        return copy
    }
}
