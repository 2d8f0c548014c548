// The effective configuration berth runs with: what the CLI, environment, file and profile resolve to.
import Logging

/// Where a listener listens: a host and port (port 0 asks the kernel for a free one), or a Unix socket's path.
public enum ListenAddress: Hashable, Sendable, CustomStringConvertible {
    /// A numeric IPv4 or IPv6 address (no brackets), or "localhost", and a port.
    case tcp(host: String, port: Int)
    /// An absolute path for the socket file.
    case unix(path: String)

    /// A TCP listen address.
    public init(host: String, port: Int) { self = .tcp(host: host, port: port) }

    /// `HOST:PORT`, IPv6 in brackets; `unix:/path`.
    public var description: String {
        switch self {
        case .tcp(let host, let port): return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        case .unix(let path): return "unix:\(path)"
        }
    }
}

/// Every timeout berth enforces; all finite and positive. The values come from the key table (ConfigKey.swift), which
/// owns their defaults: the zeros below are placeholders the table overwrites before anyone reads them.
public struct Timeouts: Hashable, Sendable {
    /// TCP connect to an upstream.
    public var connect: Duration = .zero
    /// Longest silence while reading from or writing to an upstream (HttpClient's socket timeout).
    public var socket: Duration = .zero
    /// Longest wait for a pooled connection.
    public var acquire: Duration = .zero
    /// A pooled connection idle this long is closed.
    public var idle: Duration = .zero
    /// A connection older than this is not reused.
    public var maxConnectionAge: Duration = .zero
    /// A caller must send a whole request head within this, measured from its first byte.
    public var headerRead: Duration = .zero
    /// An upstream must send each whole response head (interim or final) within this, measured from its first byte.
    public var responseHead: Duration = .zero
    /// A caller connection with no request in flight is closed after this.
    public var callerIdle: Duration = .zero
    /// How long SIGTERM waits for in-flight requests.
    public var drain: Duration = .zero
    /// Highest value a `Berth-Socket-Timeout` request header may ask for.
    public var socketCeiling: Duration = .zero
    /// How often cgroup v1 freezer files are read (v2 notifies instead).
    public var freezerPoll: Duration = .zero
    /// TLS handshake with an upstream, after its connect.
    public var tlsHandshake: Duration = .zero
    /// How long a reused connection's request may stay unacknowledged by the peer's kernel before it is dead.
    public var deadPeer: Duration = .zero

    /// Placeholders only, for `BerthConfiguration(defaultsFor:)` to fill.
    init() {}

    /// These per-profile values, and the key table's defaults for the rest.
    public init(connect: Duration, socket: Duration, acquire: Duration) {
        self = BerthConfiguration(defaultsFor: TimeoutProfile.all[0]).timeouts
        self.connect = connect
        self.socket = socket
        self.acquire = acquire
    }
}

/// Pool sizes: big enough never to be hit unless something is wrong. Defaults live in the key table, as for `Timeouts`.
public struct PoolLimits: Hashable, Sendable {
    /// Connections across all upstreams.
    public var maxTotal = 0
    /// Connections to one upstream.
    public var maxPerRoute = 0
    /// Requests waiting for a connection to one upstream.
    public var maxPending = 0
    /// Requests one connection serves before it is closed.
    public var maxRequestsPerConnection = 0
    /// Caller connections open at once; nil is `auto`, which the server works out from RLIMIT_NOFILE at start
    /// (`DescriptorBudget`).
    public var maxCallers: Int? = nil
    /// Upstreams each worker knows at once (its table of pools); past it the least recently used idle ones are forgotten.
    public var maxUpstreams = 0
    /// The key table's default limits.
    public init() { self = BerthConfiguration(defaultsFor: TimeoutProfile.all[0]).limits }
    /// Placeholders only, for `BerthConfiguration(defaultsFor:)` to fill.
    init(placeholders: Void) {}
}

/// Who may be reached through the proxy: a CIDR block or a host name.
public enum AllowRule: Hashable, Sendable, CustomStringConvertible {
    /// An address block; `bits` is the prefix length.
    case cidr(address: [UInt8], bits: Int)
    /// A host name (lowercased), or `*.suffix` for a domain and its subdomains.
    case host(String)
    /// The rule as written in configuration.
    public var description: String {
        switch self {
        case .host(let h): return h
        case .cidr(let a, let bits):
            if a.count == 4 { return a.map(String.init).joined(separator: ".") + "/\(bits)" }
            var groups: [String] = []
            for i in stride(from: 0, to: 16, by: 2) { groups.append(String(Int(a[i]) << 8 | Int(a[i + 1]), radix: 16)) }
            return groups.joined(separator: ":") + "/\(bits)"
        }
    }
}

/// Per-destination overrides, matched by host, host:port or CIDR.
public struct DestinationOverride: Hashable, Sendable {
    /// What it matches: `host`, `host:port`, or a CIDR block.
    public var match: String
    public var socketTimeout: Duration?
    public var maxPerRoute: Int?
    public var maxPending: Int?
    public var replay: ReplayPolicy?
    /// The cgroup directory of the destination's container: berth pauses it while the kernel has it frozen.
    public var freezer: String?
    /// The Unix socket the destination's connections go to instead of its host and port.
    public var unixSocket: String?
    /// TLS for this destination; nil leaves it to the global `tls`.
    public var tls: DestinationTLS?
    public var tlsHandshakeTimeout: Duration?
    /// An override that changes nothing yet.
    public init(match: String) { self.match = match }
}

/// Whether requests that a reused connection never read are sent again.
public enum ReplayPolicy: String, Hashable, Sendable, CaseIterable {
    /// Only bodiless idempotent or Idempotency-Key requests (the default).
    case idempotent
    /// Any request whose whole body fits the replay buffer.
    case unread
}

/// Log line encodings.
public enum LogFormat: String, Hashable, Sendable, CaseIterable {
    case json, logfmt
}

/// What berth runs with, fully resolved. Each setting's default, parser and spelling live in the key table
/// (ConfigKey.swift); the initial values here are placeholders that `init(defaultsFor:)` overwrites from it.
public struct BerthConfiguration: Hashable, Sendable {
    /// Name of the timeout profile the values started from.
    public var profile = ""
    /// The YAML file the settings were read from; nil when there was none.
    public var configFile: String? = nil
    public var listen = ListenAddress(host: "", port: 0)
    public var admin = ListenAddress(host: "", port: 0)
    /// The proxy's socket file, when `listen` is a Unix socket.
    public var listenSocket = UnixSocketSettings()
    /// The admin socket file, when `admin` is a Unix socket.
    public var adminSocket = UnixSocketSettings()
    /// Host names the admin answers besides IP literals and localhost, lowercased without a trailing dot.
    public var adminHosts: [String] = []
    public var timeouts = Timeouts()
    public var limits = PoolLimits(placeholders: ())
    /// Destinations callers may reach; empty means any (allowed only on a loopback listener).
    public var allow: [AllowRule] = []
    /// Ports CONNECT may tunnel to.
    public var connectPorts: [Int] = []
    /// Event loops, each with its own listener and pools.
    public var workers = 0
    /// Per-destination overrides; only a file sets them.
    public var destinations: [DestinationOverride] = []
    /// File holding the admin bearer token.
    public var adminTokenFile: String? = nil
    /// The bearer token read from `adminTokenFile` (surrounding whitespace removed); nil when there is no file.
    public var adminToken: String? = nil
    /// Which upstreams get series of their own in /metrics.
    public var metricsUpstreams = MetricsUpstreams.none
    public var logFormat = LogFormat.json
    /// The lowest level logged.
    public var logLevel = Logger.Level.trace
    /// One line per request on stderr's log stream.
    public var accessLog = false
    /// Whether a VM restore (vmgenid, VMClock) drops every pooled connection.
    public var vmRestoreWatch = true
    /// Value of the Via header berth adds, or nil for none.
    public var via: String? = nil
    /// Which requests go out again after a reused connection ended before any response byte.
    public var replay = ReplayPolicy.idempotent
    /// Largest request body kept for a replay, in bytes.
    public var replayBuffer = 0
    /// Whether a request a dead peer never acknowledged goes again on a fresh connection, whatever its method.
    public var deadPeerRetry = true
    /// Bytes all replay copies may hold at once.
    public var replayMemory = 0
    /// Bytes all unfinished request heads may hold at once, over every worker.
    public var headMemory = 0
    /// Whether destinations that do not say otherwise are reached over TLS (https:// targets always are).
    public var tls = false

    /// Every key at its default, the profile's values where the table says so: where resolution starts.
    init(defaultsFor profile: TimeoutProfile) {
        for key in ConfigKey.allCases { key.definition.reset(&self, profile) }
    }

    /// Every key at its table default for `profile`: what berth runs with when nothing is given.
    public static func defaults(for profile: TimeoutProfile = TimeoutProfile.all[0]) -> BerthConfiguration {
        BerthConfiguration(defaultsFor: profile)
    }

    /// The defaults with a profile's name and these timeouts, for tests that build a configuration by hand.
    public init(profile: String, timeouts: Timeouts) {
        self.init(defaultsFor: TimeoutProfile.all[0])
        self.profile = profile
        self.timeouts = timeouts
    }

    /// Whether /metrics labels series per upstream at all: what the renderer read before `metricsUpstreams`.
    public var metricsPerUpstream: Bool { metricsUpstreams != .none }
}
