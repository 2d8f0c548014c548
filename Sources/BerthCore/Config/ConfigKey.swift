// The names of every setting: one table from which flags, BERTH_* variables, YAML keys and help text all derive.

/// A setting that can be given as a flag, an environment variable and (except `config`) a YAML key.
public enum ConfigKey: String, CaseIterable, Hashable, Sendable {
    case profile
    case config
    case listen
    case admin
    case maxTotal = "max-total"
    case maxPerRoute = "max-per-route"
    case maxPending = "max-pending"
    case connectTimeout = "connect-timeout"
    case socketTimeout = "socket-timeout"
    case acquireTimeout = "acquire-timeout"
    case idleTimeout = "idle-timeout"
    case maxRequestsPerConnection = "max-requests-per-connection"
    case maxConnectionAge = "max-connection-age"
    case headerTimeout = "header-timeout"
    case callerIdleTimeout = "caller-idle-timeout"
    case drainTimeout = "drain-timeout"
    case socketTimeoutCeiling = "socket-timeout-ceiling"
    case allow
    case connectPort = "connect-port"
    case workers
    case adminTokenFile = "admin-token-file"
    case metricsPerUpstream = "metrics-per-upstream"
    case logFormat = "log-format"
    case logLevel = "log-level"
    case accessLog = "access-log"
    case via

    /// The kebab-case name shared by the flag (`--name`) and the YAML key.
    public var name: String { rawValue }

    /// The environment variable, e.g. `BERTH_SOCKET_TIMEOUT`.
    public var environmentVariable: String { Self.environmentName(of: rawValue) }

    /// `BERTH_` and the name upper-cased with underscores, for keys and for the file-only `destinations`.
    static func environmentName(of key: String) -> String {
        "BERTH_" + String(key.uppercased().map { $0 == "-" ? "_" : $0 })
    }

    /// Keys that take several values: repeated flags, comma-separated variables, YAML sequences.
    public var isList: Bool { self == .allow || self == .connectPort }

    /// The profile's values come from the profile table; these keys override them.
    public var isSetByProfile: Bool {
        switch self {
        case .connectTimeout, .socketTimeout, .acquireTimeout, .maxTotal, .maxPerRoute: return true
        default: return false
        }
    }

    /// The placeholder shown in help, e.g. `D` for durations.
    public var valueName: String {
        switch self {
        case .profile: return "name"
        case .config, .adminTokenFile: return "file"
        case .listen, .admin: return "host:port"
        case .connectTimeout, .socketTimeout, .acquireTimeout, .idleTimeout, .maxConnectionAge,
             .headerTimeout, .callerIdleTimeout, .drainTimeout, .socketTimeoutCeiling: return "duration"
        case .maxTotal, .maxPerRoute, .maxPending, .maxRequestsPerConnection, .workers: return "n"
        case .allow: return "cidr-or-host"
        case .connectPort: return "port"
        case .metricsPerUpstream, .accessLog: return "bool"
        case .logFormat: return "json|logfmt"
        case .logLevel: return "level"
        case .via: return "string"
        }
    }

    /// One line for `--help` and the docs.
    public var summary: String {
        switch self {
        case .profile: return "Timeout profile to start from (required): " + TimeoutProfile.all.map(\.name).joined(separator: ", ") + "."
        case .config: return "YAML file with any of these settings (kebab-case keys) and per-destination overrides."
        case .listen: return "Proxy listener; ':PORT' means 0.0.0.0, port 0 picks a free port."
        case .admin: return "Admin listener (metrics, health)."
        case .maxTotal: return "Pooled upstream connections across all destinations."
        case .maxPerRoute: return "Pooled connections to one destination."
        case .maxPending: return "Requests waiting for a connection to one destination."
        case .connectTimeout: return "TCP connect timeout to an upstream."
        case .socketTimeout: return "Longest silence while reading from or writing to an upstream."
        case .acquireTimeout: return "Longest wait for a pooled connection; follows --connect-timeout unless set."
        case .idleTimeout: return "A pooled connection idle this long is closed."
        case .maxRequestsPerConnection: return "Requests one upstream connection serves before it is closed."
        case .maxConnectionAge: return "An upstream connection older than this is not reused."
        case .headerTimeout: return "A caller must send a whole request head within this."
        case .callerIdleTimeout: return "A caller connection with no request in flight is closed after this."
        case .drainTimeout: return "How long SIGTERM waits for in-flight requests."
        case .socketTimeoutCeiling: return "Highest value a Berth-Socket-Timeout request header may ask for."
        case .allow: return "Destinations callers may reach (CIDR, host or *.domain); required on a non-loopback listener."
        case .connectPort: return "Ports CONNECT may tunnel to."
        case .workers: return "Event loops, each with its own listener and pools (1...64)."
        case .adminTokenFile: return "File holding the admin bearer token; required on a non-loopback admin listener."
        case .metricsPerUpstream: return "Label metrics per upstream (turn off for very large fleets)."
        case .logFormat: return "Log line encoding on stderr."
        case .logLevel: return "Lowest level logged: trace, debug, info, notice, warning, error, critical."
        case .accessLog: return "Log one line per request."
        case .via: return "Value of the Via header berth adds; empty adds none."
        }
    }
}
