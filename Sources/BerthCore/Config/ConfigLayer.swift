// One source's raw settings (flags, environment or file), kept as text with their origin until resolution.

/// The flags given on the command line, as text: the CLI fills it, tests build it by hand.
public struct ConfigFlags: Hashable, Sendable {
    /// Values per key; a list key may hold several, and each value may also be comma-separated.
    public var values: [ConfigKey: [String]]

    /// Flags from a key-to-values table.
    public init(_ values: [ConfigKey: [String]] = [:]) { self.values = values }

    /// The values given for `key`, nil if the flag was absent.
    public subscript(key: ConfigKey) -> [String]? {
        get { values[key] }
        set { values[key] = newValue }
    }
}

/// Raw settings from one source.
struct ConfigLayer {
    /// A key's text values and where they were written.
    struct Setting {
        var values: [String]
        var origin: ConfigOrigin
    }

    var settings: [ConfigKey: Setting] = [:]
    /// Per-destination overrides; only a file has them.
    var destinations: [DestinationOverride] = []
    /// Where each destination's fields were written, by field (`tls`, `tls.ca-file`): the TLS checks, which read
    /// files after the file is parsed, name these lines.
    var destinationOrigins: [[String: ConfigOrigin]] = []

    /// The command-line layer.
    init(flags: ConfigFlags) {
        for (key, values) in flags.values {
            settings[key] = Setting(values: key.isList ? Self.splitList(values) : values, origin: .flag)
        }
    }

    /// The `BERTH_*` layer. Unknown `BERTH_` variables are ignored, not refused: Kubernetes injects
    /// `BERTH_PORT`, `BERTH_SERVICE_HOST` and the like into every pod when a service is named berth.
    init(environment: [String: String]) {
        for key in ConfigKey.topLevel {
            guard let value = environment[key.environmentVariable] else { continue }
            settings[key] = Setting(values: key.isList ? Self.splitList([value]) : [value], origin: .environment)
        }
    }

    /// The settings in file-line order, then table order: the order they are applied and checked in.
    var ordered: [(key: ConfigKey, setting: Setting)] {
        let position = Dictionary(uniqueKeysWithValues: ConfigKey.allCases.enumerated().map { ($1, $0) })
        return settings.map { (key: $0.key, setting: $0.value) }
            .sorted { ($0.setting.origin.line, position[$0.key]!) < ($1.setting.origin.line, position[$1.key]!) }
    }

    /// An empty layer, for a file to fill.
    init() {}

    /// List values with commas split out and blanks dropped, so `a,b`, `a, b` and two flags all mean the same.
    static func splitList(_ values: [String]) -> [String] {
        values.flatMap { $0.split(separator: ",") }
            .map { item in
                let start = item.firstIndex { !$0.isWhitespace } ?? item.endIndex
                let end = item.lastIndex { !$0.isWhitespace }.map(item.index(after:)) ?? start
                return String(item[start..<end])
            }
            .filter { !$0.isEmpty }
    }
}
