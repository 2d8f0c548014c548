// Resolving flags, environment, file and profile into one validated configuration, with no process state, so tests can drive it.
import Foundation

/// Turns the raw sources into a `BerthConfiguration`. Precedence: flags, then environment, then file, then profile.
public enum ConfigurationLoader {
    /// Reads a whole text file (the config, TLS or admin token file); throws with a short reason.
    public typealias FileReader = @Sendable (_ path: String) throws -> String

    /// A resolved configuration and the warnings resolving it raised, for the CLI to log once logging is up.
    public struct Resolution: Sendable {
        public var configuration: BerthConfiguration
        /// One sentence per deprecated key used, naming where it was written and what to write instead.
        public var warnings: [String]
    }

    /// The configuration the sources resolve to, validated; `readFile` opens the config and TLS files, `readSecret`
    /// the admin token file (tests give both the same in-memory files).
    public static func resolve(
        flags: ConfigFlags, environment: [String: String], readFile: FileReader = readFromDisk,
        readSecret: FileReader = readSecretFromDisk
    ) throws(ConfigError) -> BerthConfiguration {
        try load(flags: flags, environment: environment, readFile: readFile, readSecret: readSecret).configuration
    }

    /// `resolve`, with the warnings kept.
    public static func load(
        flags: ConfigFlags, environment: [String: String], readFile: FileReader = readFromDisk,
        readSecret: FileReader = readSecretFromDisk
    ) throws(ConfigError) -> Resolution {
        let flagLayer = ConfigLayer(flags: flags)
        let environmentLayer = ConfigLayer(environment: environment)
        var fileLayer = ConfigLayer()
        if let (path, origin) = value(of: .config, in: [flagLayer, environmentLayer]) {
            guard !path.isEmpty else { throw origin.error(ConfigKey.config.name, "needs a file name") }
            fileLayer = try ConfigFile.parse(try contents(of: path, for: origin.name(of: ConfigKey.config.name), using: readFile), path: path)
        }
        // Lowest precedence first, so each later layer overwrites what the earlier ones set.
        let layers = [fileLayer, environmentLayer, flagLayer]

        guard let (name, origin) = value(of: .profile, in: layers.reversed()) else {
            throw ConfigError("a timeout profile is required: pass --profile NAME, set BERTH_PROFILE, or write `profile:` in the config file.\n" + profileListing)
        }
        guard let profile = TimeoutProfile.named(name) else {
            throw ConfigError(origin.error(ConfigKey.profile.name, "unknown profile \"\(name)\".").message + "\n" + profileListing)
        }

        var configuration = BerthConfiguration(defaultsFor: profile)
        var warnings = try apply(layers, to: &configuration)
        configuration.destinations = fileLayer.destinations
        warnings += try TLSValidation.check(configuration, origins: fileLayer.destinationOrigins, readFile: readFile)

        if let tokenFile = configuration.adminTokenFile {
            // A file line names where the setting was written; a flag or variable keeps the plain key name.
            var who = ConfigKey.adminTokenFile.name
            if let (_, origin) = value(of: .adminTokenFile, in: layers.reversed()), origin.line > 0 { who = origin.name(of: who) }
            let token = try contents(of: tokenFile, for: who, using: readSecret)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty else { throw ConfigError("\(ConfigKey.adminTokenFile.name): \(tokenFile) is empty") }
            // A header field cannot carry a line break (or another control character): no client could send such a
            // token, and `berth ctl` wrote its second line as a field of its own (adv12). Not echoed: it is secret.
            if let (offset, c) = token.unicodeScalars.enumerated().first(where: { $0.1.value < 0x20 || $0.1.value == 0x7F }) {
                let hex = String(c.value, radix: 16, uppercase: true)
                throw ConfigError("\(ConfigKey.adminTokenFile.name): the token in \(tokenFile) holds a control character "
                    + "(U+\(String(repeating: "0", count: 4 - hex.count) + hex) at character \(offset + 1)), which no "
                    + "Authorization header can carry; keep the token on one line")
            }
            configuration.adminToken = token
        }
        try ConfigurationValidation.validate(configuration)
        return Resolution(configuration: configuration, warnings: warnings)
    }

    /// Applies the layers (lowest precedence first), each in file-line then table order, then sets the keys that
    /// follow another; returns a warning per deprecated key used.
    private static func apply(_ layers: [ConfigLayer], to configuration: inout BerthConfiguration) throws(ConfigError) -> [String] {
        var explicitlySet: Set<ConfigKey> = []
        var warnings: [String] = []
        for layer in layers {
            for (key, setting) in layer.ordered {
                let definition = key.definition
                if let target = definition.aliasOf, layer.settings[target] != nil {
                    throw setting.origin.error(key.name, "is a deprecated alias of \(target.name), which this source also sets; keep only \(target.name)")
                }
                do {
                    try definition.apply(&configuration, setting.values)
                } catch {
                    throw setting.origin.error(key.name, error.message)
                }
                explicitlySet.insert(definition.aliasOf ?? key)
                if let target = definition.aliasOf, let value = target.definition.yaml?(configuration) {
                    warnings.append("\(setting.origin.name(of: key.name)): deprecated; write \(setting.origin.spelling(of: target.name, value)) instead, which means the same")
                }
            }
        }
        for key in ConfigKey.allCases {
            guard let leader = key.definition.follows, explicitlySet.contains(leader), !explicitlySet.contains(key),
                  let text = leader.definition.yaml?(configuration) else { continue }
            do {
                try key.definition.apply(&configuration, [text])
            } catch {
                preconditionFailure("\(key.name) cannot follow \(leader.name): \(error.message)")
            }
        }
        // A profile's max-per-route follows a lower max-total, as the acquire timeout follows the connect timeout:
        // `--max-total 50` alone was refused for the profile's 100, a value the operator never wrote (adv12).
        if !explicitlySet.contains(.maxPerRoute), configuration.limits.maxPerRoute > configuration.limits.maxTotal {
            configuration.limits.maxPerRoute = configuration.limits.maxTotal
        }
        return warnings
    }

    /// The profiles and what each sets, for the missing- and unknown-profile errors.
    public static var profileListing: String {
        "Profiles (any flag, BERTH_* variable or file key overrides their values):\n" + TimeoutProfile.table
    }

    /// The highest-precedence value of a single-valued key among `layers` (highest first), with its origin.
    private static func value(of key: ConfigKey, in layers: [ConfigLayer]) -> (String, ConfigOrigin)? {
        for layer in layers {
            if let setting = layer.settings[key] { return (setting.values.first ?? "", setting.origin) }
        }
        return nil
    }

    /// `readFile(path)`, with a failure turned into an error naming who asked for the file.
    private static func contents(of path: String, for who: String, using readFile: FileReader) throws(ConfigError) -> String {
        do {
            return try readFile(path)
        } catch let refused as UnsafeSecretFile {
            throw ConfigError("\(who): \(path) \(refused.reason)")
        } catch {
            throw ConfigError("\(who): cannot read \(path): \(error)")
        }
    }
}
