// The effective configuration as YAML: what `berth check-config` prints, and itself a valid config file.
import Logging

extension BerthConfiguration {
    /// Every setting, one `key: value` line per key in table order, then the destination overrides.
    /// The admin token itself is never printed, only whether one was loaded.
    public func renderedAsYAML() -> String {
        var lines = ConfigKey.allCases.compactMap { key in key.render(self).map { "\(key.name): \($0)" } }
        if adminToken != nil { lines.append("# admin token loaded from admin-token-file") }
        if destinations.isEmpty {
            lines.append("destinations: []")
        } else {
            lines.append("destinations:")
            for destination in destinations {
                lines.append("  - match: \(destination.match.yamlQuoted)")
                if let timeout = destination.socketTimeout { lines.append("    socket-timeout: \(DurationSyntax.format(timeout))") }
                if let perRoute = destination.maxPerRoute { lines.append("    max-per-route: \(perRoute)") }
                if let pending = destination.maxPending { lines.append("    max-pending: \(pending)") }
            }
        }
        return lines.joined(separator: "\n")
    }

    /// `logLevel` as a swift-log level; the loader only stores valid names, so `info` is a mere fallback.
    public var loggerLevel: Logger.Level { Logger.Level(rawValue: logLevel) ?? .info }
}
