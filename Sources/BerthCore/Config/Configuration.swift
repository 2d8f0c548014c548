// The effective configuration berth runs with: what the CLI, environment, file and profile resolve to.

/// A host and port to listen on; port 0 asks the kernel for a free one.
public struct ListenAddress: Hashable, Sendable, CustomStringConvertible {
    /// Numeric IPv4 or IPv6 address (no brackets), or "localhost".
    public var host: String
    public var port: Int
    /// A listen address.
    public init(host: String, port: Int) { self.host = host; self.port = port }
    /// `HOST:PORT`, IPv6 in brackets.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Every timeout berth enforces; all finite and positive.
public struct Timeouts: Hashable, Sendable {
    /// TCP connect to an upstream.
    public var connect: Duration
    /// Longest silence while reading from or writing to an upstream (HttpClient's socket timeout).
    public var socket: Duration
    /// Longest wait for a pooled connection.
    public var acquire: Duration
    /// A pooled connection idle this long is closed; below common server keep-alive timeouts (Node's 5s).
    public var idle: Duration = .seconds(4)
    /// A connection older than this is not reused.
    public var maxConnectionAge: Duration = .seconds(300)
    /// A caller must send a whole request head within this, measured from its first byte.
    public var headerRead: Duration = .seconds(10)
    /// A caller connection with no request in flight is closed after this.
    public var callerIdle: Duration = .seconds(60)
    /// How long SIGTERM waits for in-flight requests.
    public var drain: Duration = .seconds(10)
    /// Highest value a `Berth-Socket-Timeout` request header may ask for.
    public var socketCeiling: Duration = .seconds(300)
    /// Timeouts with the per-profile values; the rest take their defaults.
    public init(connect: Duration, socket: Duration, acquire: Duration) {
        self.connect = connect
        self.socket = socket
        self.acquire = acquire
    }
}

/// Pool sizes: big enough never to be hit unless something is wrong.
public struct PoolLimits: Hashable, Sendable {
    /// Connections across all upstreams.
    public var maxTotal: Int = 200
    /// Connections to one upstream.
    public var maxPerRoute: Int = 100
    /// Requests waiting for a connection to one upstream.
    public var maxPending: Int = 1000
    /// Requests one connection serves before it is closed.
    public var maxRequestsPerConnection: Int = 10_000
    /// Default limits.
    public init() {}
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
    /// An override that changes nothing yet.
    public init(match: String) { self.match = match }
}

/// Log line encodings.
public enum LogFormat: String, Hashable, Sendable, CaseIterable {
    case json, logfmt
}

/// What berth runs with, fully resolved.
public struct BerthConfiguration: Hashable, Sendable {
    /// Name of the timeout profile the values started from.
    public var profile: String
    public var listen = ListenAddress(host: "127.0.0.1", port: 3128)
    public var admin = ListenAddress(host: "127.0.0.1", port: 9901)
    public var timeouts: Timeouts
    public var limits = PoolLimits()
    /// Destinations callers may reach; empty means any (allowed only on a loopback listener).
    public var allow: [AllowRule] = []
    /// Ports CONNECT may tunnel to.
    public var connectPorts: [Int] = [443]
    /// Event loops, each with its own listener and pools.
    public var workers: Int = 1
    public var destinations: [DestinationOverride] = []
    /// File holding the admin bearer token.
    public var adminTokenFile: String? = nil
    /// The bearer token read from `adminTokenFile` (surrounding whitespace removed); nil when there is no file.
    public var adminToken: String? = nil
    /// Label metrics per upstream (false for very large fleets).
    public var metricsPerUpstream = true
    public var logFormat: LogFormat = .logfmt
    public var logLevel = "info"
    /// One line per request on stderr's log stream.
    public var accessLog = false
    /// Value of the Via header berth adds, or nil for none.
    public var via: String? = "1.1 berth"
    /// A configuration from a profile's timeouts and default limits.
    public init(profile: String, timeouts: Timeouts) {
        self.profile = profile
        self.timeouts = timeouts
    }
}
