// Where a setting was written, so that an error can point the operator at the exact flag, variable or file line.

/// The source of one raw setting.
enum ConfigOrigin: Hashable, Sendable {
    case flag
    case environment
    case file(path: String, line: Int)

    /// How this origin names `key` at the start of an error message.
    func name(of key: String) -> String {
        switch self {
        case .flag: return "--\(key)"
        case .environment: return ConfigKey.environmentName(of: key)
        case .file(let path, let line): return "\(path):\(line): \(key)"
        }
    }

    /// How `key` set to `value` is written in this kind of source, e.g. `--workers 2` or `workers: 2`.
    func spelling(of key: String, _ value: String) -> String {
        switch self {
        case .flag: return "--\(key) \(value)"
        case .environment: return "\(ConfigKey.environmentName(of: key))=\(value)"
        case .file: return "\(key): \(value)"
        }
    }

    /// The file line, 0 for flags and variables: settings are applied in this order, so errors come top to bottom.
    var line: Int {
        if case .file(_, let line) = self { return line }
        return 0
    }

    /// An error about `key` written here, e.g. `berth.yaml:7: socket-timeout: "abc" is not a duration`.
    func error(_ key: String, _ problem: String) -> ConfigError {
        ConfigError("\(name(of: key)): \(problem)")
    }
}
