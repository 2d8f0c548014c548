// The effective configuration as the key table prints it: YAML for `berth check-config`, fields for the startup log.
import Logging

extension BerthConfiguration {
    /// Every setting, one `key: value` line per key in table order, then the destination overrides; itself a valid
    /// configuration file. The admin token itself is never printed, only whether one was loaded.
    public func renderedAsYAML() -> String {
        var lines: [String] = []
        for key in ConfigKey.allCases {
            let definition = key.definition
            guard let yaml = definition.yaml else { continue }
            switch definition.rendering {
            case .key: lines.append("\(key.name): \(yaml(self))")
            case .comment: lines.append("# \(key.name): \(definition.log.map { $0(self) }.flatMap { $0.isEmpty ? nil : $0 } ?? "none")")
            case .viaTarget, .inDestinations: break
            }
        }
        if adminToken != nil { lines.append("# admin token loaded from admin-token-file") }
        if destinations.isEmpty {
            lines.append("destinations: []")
        } else {
            let fields = ConfigKey.allCases.compactMap { key in key.definition.destination.map { (key.name, $0) } }
            lines.append("destinations:")
            for destination in destinations {
                lines.append("  - match: \(destination.match.yamlQuoted)")
                for (name, field) in fields {
                    if let value = field.yaml(destination) { lines.append("    \(name): \(value)") }
                }
            }
        }
        return lines.joined(separator: "\n")
    }

    /// One field per key for the startup log line, e.g. `header_timeout=10s`; the caller adds the version.
    public var startupLogMetadata: Logger.Metadata {
        var metadata: Logger.Metadata = [:]
        for key in ConfigKey.allCases {
            if let field = key.logField, let log = key.definition.log { metadata[field] = .string(log(self)) }
        }
        return metadata
    }
}
