// The configuration flags, one per global row of BerthCore's key table: adding a key adds its flag and its --help line here.
import ArgumentParser
import BerthCore

/// Every configuration flag, kept as text: BerthCore parses and validates values so all sources report errors alike.
///
/// ArgumentParser finds a command's arguments by reflecting over its properties, and one property per key would be
/// a second list of keys to keep in step with the table. So this type reflects as one `@Option` (or `@Flag`) per
/// key, built from the table, and decodes them by the same names. ArgumentParser's debug-build validators check
/// the two agree.
struct ConfigOptions: ParsableArguments, CustomReflectable {
    /// What was given for each key; a key that was not given is absent.
    private var given: [ConfigKey: [String]] = [:]

    /// The value given for a single-valued `key` on the command line, if any.
    subscript(key: ConfigKey) -> String? { given[key]?.last }

    /// No flags: the instance ArgumentParser reflects over to find the arguments.
    init() {}

    /// The values ArgumentParser parsed for each key's argument.
    init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: ArgumentName.self)
        for key in ConfigKey.topLevel {
            let name = ArgumentName(key)
            switch key.flagShape {
            case .value:
                if let value = try container.decode(Option<String?>.self, forKey: name).wrappedValue { given[key] = [value] }
            case .list:
                let values = try container.decode(Option<[String]>.self, forKey: name).wrappedValue
                if !values.isEmpty { given[key] = values }
            case .toggle:
                if let value = try container.decode(Flag<Bool?>.self, forKey: name).wrappedValue { given[key] = [String(value)] }
            }
        }
    }

    /// One argument per key, as ArgumentParser would find `@Option` properties.
    var customMirror: Mirror {
        Mirror(self, children: ConfigKey.topLevel.map { key in (label: ArgumentName(key).stringValue, value: Self.argument(for: key)) })
    }

    /// The flags as BerthCore reads them; `configFile` (from `check-config FILE`) replaces `--config`.
    func flags(configFile: String? = nil) -> ConfigFlags {
        var flags = ConfigFlags(given)
        if let configFile { flags[.config] = [configFile] }
        return flags
    }

    /// The property wrapper that declares `key`'s flag: its name, value placeholder and help line come from the table.
    private static func argument(for key: ConfigKey) -> Any {
        let help = ArgumentHelp(key.help, valueName: key.valueName)
        switch key.flagShape {
        // Unconditional: `--max-total -1` is a value to judge (and refuse with its reason), not a missing one.
        case .value: return Option<String?>(name: .customLong(key.name), parsing: .unconditional, help: help)
        case .list: return Option<[String]>(wrappedValue: [], name: .customLong(key.name), parsing: .upToNextOption, help: help)
        case .toggle: return Flag<Bool?>(name: .customLong(key.name), inversion: .prefixedNo, help: help)
        }
    }
}

/// The coding key of a key's argument: its name, which is also the property label ArgumentParser sees.
private struct ArgumentName: CodingKey {
    var stringValue: String
    /// The name of `key`'s argument.
    init(_ key: ConfigKey) { stringValue = key.name }
    /// Any name, as `CodingKey` requires.
    init?(stringValue: String) { self.stringValue = stringValue }
    var intValue: Int? { nil }
    /// None: arguments have names, not positions.
    init?(intValue: Int) { nil }
}
