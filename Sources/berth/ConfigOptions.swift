// The configuration flags, declared from the BerthCore key table so flags, variables and YAML keys cannot drift apart.
import ArgumentParser
import BerthCore

/// Every configuration flag, kept as text: BerthCore parses and validates values so all sources report errors alike.
struct ConfigOptions: ParsableArguments {
    @Option(name: .customLong(ConfigKey.profile.name), help: help(.profile)) var profile: String?
    @Option(name: .customLong(ConfigKey.config.name), help: help(.config)) var config: String?
    @Option(name: .customLong(ConfigKey.listen.name), help: help(.listen)) var listen: String?
    @Option(name: .customLong(ConfigKey.admin.name), help: help(.admin)) var admin: String?
    @Option(name: .customLong(ConfigKey.maxTotal.name), help: help(.maxTotal)) var maxTotal: String?
    @Option(name: .customLong(ConfigKey.maxPerRoute.name), help: help(.maxPerRoute)) var maxPerRoute: String?
    @Option(name: .customLong(ConfigKey.maxPending.name), help: help(.maxPending)) var maxPending: String?
    @Option(name: .customLong(ConfigKey.connectTimeout.name), help: help(.connectTimeout)) var connectTimeout: String?
    @Option(name: .customLong(ConfigKey.socketTimeout.name), help: help(.socketTimeout)) var socketTimeout: String?
    @Option(name: .customLong(ConfigKey.acquireTimeout.name), help: help(.acquireTimeout)) var acquireTimeout: String?
    @Option(name: .customLong(ConfigKey.idleTimeout.name), help: help(.idleTimeout)) var idleTimeout: String?
    @Option(name: .customLong(ConfigKey.maxRequestsPerConnection.name), help: help(.maxRequestsPerConnection))
    var maxRequestsPerConnection: String?
    @Option(name: .customLong(ConfigKey.maxConnectionAge.name), help: help(.maxConnectionAge)) var maxConnectionAge: String?
    @Option(name: .customLong(ConfigKey.headerTimeout.name), help: help(.headerTimeout)) var headerTimeout: String?
    @Option(name: .customLong(ConfigKey.callerIdleTimeout.name), help: help(.callerIdleTimeout)) var callerIdleTimeout: String?
    @Option(name: .customLong(ConfigKey.drainTimeout.name), help: help(.drainTimeout)) var drainTimeout: String?
    @Option(name: .customLong(ConfigKey.socketTimeoutCeiling.name), help: help(.socketTimeoutCeiling))
    var socketTimeoutCeiling: String?
    @Option(name: .customLong(ConfigKey.allow.name), parsing: .upToNextOption, help: help(.allow)) var allow: [String] = []
    @Option(name: .customLong(ConfigKey.connectPort.name), parsing: .upToNextOption, help: help(.connectPort))
    var connectPort: [String] = []
    @Option(name: .customLong(ConfigKey.workers.name), help: help(.workers)) var workers: String?
    @Option(name: .customLong(ConfigKey.adminTokenFile.name), help: help(.adminTokenFile)) var adminTokenFile: String?
    @Option(name: .customLong(ConfigKey.metricsPerUpstream.name), help: help(.metricsPerUpstream)) var metricsPerUpstream: String?
    @Option(name: .customLong(ConfigKey.logFormat.name), help: help(.logFormat)) var logFormat: String?
    @Option(name: .customLong(ConfigKey.logLevel.name), help: help(.logLevel)) var logLevel: String?
    @Flag(name: .customLong(ConfigKey.accessLog.name), inversion: .prefixedNo, help: help(.accessLog)) var accessLog: Bool?
    @Option(name: .customLong(ConfigKey.via.name), help: help(.via)) var via: String?

    /// The flags as BerthCore reads them; `configFile` (from `check-config FILE`) replaces `--config`.
    func flags(configFile: String? = nil) -> ConfigFlags {
        var flags = ConfigFlags()
        for key in ConfigKey.allCases { flags[key] = values(for: key) }
        if let configFile { flags[.config] = [configFile] }
        return flags
    }

    /// What was given for `key`; the exhaustive switch makes a new key in the table fail to compile until it has a flag.
    private func values(for key: ConfigKey) -> [String]? {
        let list = { (values: [String]) in values.isEmpty ? nil : values }
        switch key {
        case .profile: return profile.map { [$0] }
        case .config: return config.map { [$0] }
        case .listen: return listen.map { [$0] }
        case .admin: return admin.map { [$0] }
        case .maxTotal: return maxTotal.map { [$0] }
        case .maxPerRoute: return maxPerRoute.map { [$0] }
        case .maxPending: return maxPending.map { [$0] }
        case .connectTimeout: return connectTimeout.map { [$0] }
        case .socketTimeout: return socketTimeout.map { [$0] }
        case .acquireTimeout: return acquireTimeout.map { [$0] }
        case .idleTimeout: return idleTimeout.map { [$0] }
        case .maxRequestsPerConnection: return maxRequestsPerConnection.map { [$0] }
        case .maxConnectionAge: return maxConnectionAge.map { [$0] }
        case .headerTimeout: return headerTimeout.map { [$0] }
        case .callerIdleTimeout: return callerIdleTimeout.map { [$0] }
        case .drainTimeout: return drainTimeout.map { [$0] }
        case .socketTimeoutCeiling: return socketTimeoutCeiling.map { [$0] }
        case .allow: return list(allow)
        case .connectPort: return list(connectPort)
        case .workers: return workers.map { [$0] }
        case .adminTokenFile: return adminTokenFile.map { [$0] }
        case .metricsPerUpstream: return metricsPerUpstream.map { [$0] }
        case .logFormat: return logFormat.map { [$0] }
        case .logLevel: return logLevel.map { [$0] }
        case .accessLog: return accessLog.map { [String($0)] }
        case .via: return via.map { [$0] }
        }
    }

    /// Help for `key`: its summary, the default, and the environment variable.
    private static func help(_ key: ConfigKey) -> ArgumentHelp {
        var text = key.summary
        if key.isSetByProfile {
            text += " (default: from the profile)"
        } else if let value = key.render(TimeoutProfile.all[0].configuration()), key != .profile {
            text += " (default: \(value))"
        }
        return ArgumentHelp("\(text) [\(key.environmentVariable)]", valueName: key.valueName)
    }
}
