// What each key reads into and prints from the configuration; apply and render share the field each key maps to.

extension ConfigKey {
    /// The timeout a duration key sets.
    var durationField: WritableKeyPath<BerthConfiguration, Duration>? {
        switch self {
        case .connectTimeout: return \.timeouts.connect
        case .socketTimeout: return \.timeouts.socket
        case .acquireTimeout: return \.timeouts.acquire
        case .idleTimeout: return \.timeouts.idle
        case .maxConnectionAge: return \.timeouts.maxConnectionAge
        case .headerTimeout: return \.timeouts.headerRead
        case .callerIdleTimeout: return \.timeouts.callerIdle
        case .drainTimeout: return \.timeouts.drain
        case .socketTimeoutCeiling: return \.timeouts.socketCeiling
        default: return nil
        }
    }

    /// The count a numeric key sets.
    var countField: WritableKeyPath<BerthConfiguration, Int>? {
        switch self {
        case .maxTotal: return \.limits.maxTotal
        case .maxPerRoute: return \.limits.maxPerRoute
        case .maxPending: return \.limits.maxPending
        case .maxRequestsPerConnection: return \.limits.maxRequestsPerConnection
        case .workers: return \.workers
        default: return nil
        }
    }

    /// The range of workers: one loop per core, and more than 64 cores for a sidecar is a mistake.
    static let workerRange = 1...64

    /// Parses `values` and stores them; `profile` and `config` choose sources and are handled by the loader.
    func apply(_ values: [String], to configuration: inout BerthConfiguration) throws(ValueProblem) {
        if isList {
            switch self {
            case .allow: configuration.allow = try values.map { v throws(ValueProblem) in try AllowRule.parse(v) }
            default: configuration.connectPorts = try values.map { v throws(ValueProblem) in try ConfigValueSyntax.port(v) }
            }
            return
        }
        guard values.count == 1, let value = values.first else {
            throw ValueProblem("takes one value, not a list")
        }
        if let field = durationField { configuration[keyPath: field] = try DurationSyntax.parse(value); return }
        if let field = countField {
            let count = try ConfigValueSyntax.positiveInt(value)
            if self == .workers, !Self.workerRange.contains(count) {
                throw ValueProblem("\"\(value)\" is out of range (\(Self.workerRange.lowerBound) to \(Self.workerRange.upperBound))")
            }
            configuration[keyPath: field] = count
            return
        }
        switch self {
        case .profile, .config: break
        case .listen: configuration.listen = try ListenAddress.parse(value)
        case .admin: configuration.admin = try ListenAddress.parse(value)
        case .adminTokenFile: configuration.adminTokenFile = value.isEmpty ? nil : value
        case .metricsPerUpstream: configuration.metricsPerUpstream = try ConfigValueSyntax.bool(value)
        case .accessLog: configuration.accessLog = try ConfigValueSyntax.bool(value)
        case .logFormat: configuration.logFormat = try ConfigValueSyntax.logFormat(value)
        case .logLevel: configuration.logLevel = try ConfigValueSyntax.logLevel(value)
        case .via: configuration.via = value.isEmpty ? nil : value
        default: preconditionFailure("\(name) has no field")
        }
    }

    /// The value as a YAML scalar or flow sequence that `apply` reads back; nil for `config`.
    public func render(_ configuration: BerthConfiguration) -> String? {
        if let field = durationField { return DurationSyntax.format(configuration[keyPath: field]) }
        if let field = countField { return String(configuration[keyPath: field]) }
        switch self {
        case .config: return nil
        case .profile: return configuration.profile
        case .listen: return configuration.listen.description.yamlQuoted
        case .admin: return configuration.admin.description.yamlQuoted
        case .allow: return "[" + configuration.allow.map(\.description.yamlQuoted).joined(separator: ", ") + "]"
        case .connectPort: return "[" + configuration.connectPorts.map(String.init).joined(separator: ", ") + "]"
        case .adminTokenFile: return (configuration.adminTokenFile ?? "").yamlQuoted
        case .metricsPerUpstream: return String(configuration.metricsPerUpstream)
        case .accessLog: return String(configuration.accessLog)
        case .logFormat: return configuration.logFormat.rawValue
        case .logLevel: return configuration.logLevel
        case .via: return (configuration.via ?? "").yamlQuoted
        default: preconditionFailure("\(name) has no field")
        }
    }
}

extension String {
    /// The string as a YAML scalar: plain when that reads back unchanged, double-quoted otherwise.
    var yamlQuoted: String {
        let plainSafe = !isEmpty && allSatisfy { $0.isLetter || $0.isNumber || "._/-".contains($0) }
            && !["true", "false", "yes", "no", "on", "off", "null", "~"].contains(lowercased())
            && Int(self) == nil && Double(self) == nil
        if plainSafe { return self }
        var escaped = ""
        for character in self {
            switch character {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            default: escaped.append(character)
            }
        }
        return "\"\(escaped)\""
    }
}
