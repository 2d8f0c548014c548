// The key table: every setting declared once, from which flags, BERTH_* variables, YAML keys, help and output derive.
import Logging

/// A setting that can be given as a flag, an environment variable and (except `config`) a YAML key.
/// Table order is the order of `--help`, of `check-config` and of applying one source's values. Adding a setting is
/// one case and its row in `definition`, plus the stored property its key path names and the code that uses it.
public enum ConfigKey: String, CaseIterable, Hashable, Sendable {
    case profile
    case config
    case listen
    case listenSocketMode = "listen-socket-mode"
    case listenSocketOwner = "listen-socket-owner"
    case admin
    case adminSocketMode = "admin-socket-mode"
    case adminSocketOwner = "admin-socket-owner"
    case adminHosts = "admin-hosts"
    case maxTotal = "max-total"
    case maxPerRoute = "max-per-route"
    case maxPending = "max-pending"
    case maxCallers = "max-callers"
    case maxUpstreams = "max-upstreams"
    case connectTimeout = "connect-timeout"
    case tlsHandshakeTimeout = "tls-handshake-timeout"
    case socketTimeout = "socket-timeout"
    case acquireTimeout = "acquire-timeout"
    case idleTimeout = "idle-timeout"
    case maxRequestsPerConnection = "max-requests-per-connection"
    case maxConnectionAge = "max-connection-age"
    case headerTimeout = "header-timeout"
    case responseHeadTimeout = "response-head-timeout"
    case callerIdleTimeout = "caller-idle-timeout"
    case drainTimeout = "drain-timeout"
    case socketTimeoutCeiling = "socket-timeout-ceiling"
    case freezer
    case freezerPollInterval = "freezer-poll-interval"
    case vmRestoreWatch = "vm-restore-watch"
    case allow
    case connectPort = "connect-port"
    case workers
    case adminTokenFile = "admin-token-file"
    case metricsUpstreams = "metrics-upstreams"
    case metricsPerUpstream = "metrics-per-upstream"
    case logFormat = "log-format"
    case logLevel = "log-level"
    case accessLog = "access-log"
    case via
    case replay
    case replayBuffer = "replay-buffer"
    case replayMemory = "replay-memory"
    case headMemory = "head-memory"
    case deadPeerTimeout = "dead-peer-timeout"
    case deadPeerRetry = "dead-peer-retry"
    case unix
    case tls

    /// The row of the table: kind, default, where the value lands, example and help.
    var definition: KeyDefinition {
        switch self {
        case .profile:
            return .setting(\.profile, .word("name"), default: .required(\.name), example: ["max-timeout"],
                            "Timeout profile to start from (required): " + TimeoutProfile.all.map(\.name).joined(separator: ", ") + ".")
        case .config:
            return .setting(\.configFile, .optionalText("file"), default: .value(nil), example: ["/etc/berth/berth.yaml"],
                            "YAML file with any of these settings (kebab-case keys) and per-destination overrides.",
                            inFile: false)
        case .listen:
            return .setting(\.listen, .address, default: .value(ListenAddress(host: "127.0.0.1", port: 3128)),
                            example: ["127.0.0.1:3130"],
                            "Proxy listener; ':PORT' means 0.0.0.0, port 0 picks a free port, unix:/path is a Unix socket.")
        // Connecting to a Unix socket takes write permission on its file: the proxy's lets berth's group in (a pod's
        // fsGroup), the admin's only berth's own user, since the admin socket needs no token.
        case .listenSocketMode:
            return .setting(\.listenSocket.mode, .fileMode, default: .value(0o660), example: ["0666"],
                            "Permission bits of the proxy's Unix socket file (listen unix:/path); callers need write permission.")
        case .listenSocketOwner:
            return .setting(\.listenSocket.owner, .socketOwner, default: .value(nil), example: ["1000:2000"],
                            "Owner of the proxy's Unix socket file: USER, USER:GROUP or :GROUP, names or numbers.")
        case .admin:
            return .setting(\.admin, .address, default: .value(ListenAddress(host: "127.0.0.1", port: 9901)),
                            example: ["127.0.0.1:9902"], "Admin listener (metrics, health); unix:/path is a Unix socket.")
        case .adminSocketMode:
            return .setting(\.adminSocket.mode, .fileMode, default: .value(0o600), example: ["0660"],
                            "Permission bits of the admin Unix socket file (admin unix:/path), its access control.")
        case .adminSocketOwner:
            return .setting(\.adminSocket.owner, .socketOwner, default: .value(nil), example: [":2000"],
                            "Owner of the admin Unix socket file: USER, USER:GROUP or :GROUP, names or numbers.")
        // DNS rebinding: any other Host is a page of another site that made its name resolve to berth.
        case .adminHosts:
            return .setting(\.adminHosts, .list(.hostName), default: .value([]), example: ["berth.monitoring.svc"],
                            "Host names the admin listener answers besides IP addresses and localhost; any other Host gets 421.")
        // Pool sizes sit far above normal load: reaching one means something upstream is wrong.
        case .maxTotal:
            return .setting(\.limits.maxTotal, .count(), default: .profile(\.maxTotal), example: ["150"],
                            "Upstream connections across all destinations, tunnels (CONNECT, Upgrade) included.")
        case .maxPerRoute:
            return .setting(\.limits.maxPerRoute, .count(), default: .profile(\.maxPerRoute), example: ["50"],
                            "Upstream connections to one destination, tunnels (CONNECT, Upgrade) included.", perDestination: \.maxPerRoute)
        case .maxPending:
            return .setting(\.limits.maxPending, .count(), default: .value(1000), example: ["500"],
                            "Requests waiting for a connection to one destination.", perDestination: \.maxPending)
        case .maxCallers:
            return .setting(\.limits.maxCallers, .countOrAuto, default: .value(nil), example: ["500"],
                            "Caller connections open at once; past it a new caller gets 503 too-many-callers and is closed. "
                                + "auto: RLIMIT_NOFILE less max-total, the admin's \(DescriptorBudget.adminConnections) "
                                + "connections and \(DescriptorBudget.reserveBase) + \(DescriptorBudget.reservePerWorker) per worker for berth's own "
                                + "(\(DescriptorBudget.reservePerWorker + DescriptorBudget.awaitingRoomPerWorker) per worker with 2 or more: "
                                + "callers waiting for room).")
        // A sidecar talks to a few hundred upstreams at most; 10,000 entries are about 12 MB of /stats.
        case .maxUpstreams:
            return .setting(\.limits.maxUpstreams, .count(), default: .value(10_000), example: ["500"],
                            "Upstreams each worker knows at once; past it the least recently used one with no connection in use, "
                                + "no waiting request, no pause and no watch is forgotten (its idle connections closed), "
                                + "or the request gets 503 too-many-upstreams.")
        case .connectTimeout:
            return .setting(\.timeouts.connect, .duration, default: .profile(\.connect), example: ["300ms"],
                            "TCP connect timeout to an upstream.")
        case .tlsHandshakeTimeout:
            // A slow handshake is a slow connect: by default they share one bound.
            return .setting(\.timeouts.tlsHandshake, .duration, default: .profile(\.connect), example: ["3s"],
                            "TLS handshake timeout to an upstream, after the connect; follows --connect-timeout unless set.",
                            perDestination: \.tlsHandshakeTimeout, follows: .connectTimeout)
        case .socketTimeout:
            return .setting(\.timeouts.socket, .duration, default: .profile(\.socket), example: ["2s"],
                            "Longest silence while reading from or writing to an upstream.", perDestination: \.socketTimeout)
        case .acquireTimeout:
            // As in HttpClient, the acquire timeout defaults to the connect timeout, including an overridden one.
            return .setting(\.timeouts.acquire, .duration, default: .profile(\.acquire), example: ["250ms"],
                            "Longest wait for a pooled connection; follows --connect-timeout unless set.",
                            follows: .connectTimeout)
        case .idleTimeout:
            // Below common server keep-alive timeouts (Node's 5s), so berth closes an idle connection before the server does.
            return .setting(\.timeouts.idle, .duration, default: .value(.seconds(4)), example: ["2s"],
                            "A pooled connection idle this long is closed (sooner when its server's Keep-Alive: timeout asks).")
        case .maxRequestsPerConnection:
            return .setting(\.limits.maxRequestsPerConnection, .count(), default: .value(10_000), example: ["500"],
                            "Requests one upstream connection serves before it is closed.")
        case .maxConnectionAge:
            return .setting(\.timeouts.maxConnectionAge, .duration, default: .value(.seconds(300)), example: ["1m"],
                            "An upstream connection older than this is not reused.")
        case .headerTimeout:
            return .setting(\.timeouts.headerRead, .duration, default: .value(.seconds(10)), example: ["5s"],
                            "A caller must send a whole request head within this.")
        case .responseHeadTimeout:
            // The socket timeout bounds each silence, not a head dripped a byte at a time: this bounds the whole
            // head as header-timeout bounds a caller's, from its first byte (an origin's think time comes before).
            return .setting(\.timeouts.responseHead, .duration, default: .value(.seconds(10)), example: ["5s"],
                            "An upstream must send each whole response head within this of its first byte (else 504 read-timeout).")
        case .callerIdleTimeout:
            return .setting(\.timeouts.callerIdle, .duration, default: .value(.seconds(60)), example: ["30s"],
                            "A caller connection with no request in flight is closed after this (HTTP/1.1 callers are told a second less).")
        case .drainTimeout:
            return .setting(\.timeouts.drain, .duration, default: .value(.seconds(10)), example: ["20s"],
                            "How long SIGTERM goes on serving the requests already accepted (in flight, queued, held by a pause).")
        case .socketTimeoutCeiling:
            return .setting(\.timeouts.socketCeiling, .duration, default: .value(.seconds(300)), example: ["10m"],
                            "Highest value a Berth-Socket-Timeout request header may ask for.")
        case .freezer:
            return .destinationOnly(\.freezer, .cgroupDirectory, example: ["/sys/fs/cgroup/system.slice/docker-0f3a.scope"],
                                    "cgroup directory of the destination's container (match: host:port): berth pauses it while the kernel has it frozen, as /pause does.")
        case .freezerPollInterval:
            // cgroup v1 gives no notification: a tenth of a second bounds the delay at ten reads a second per cgroup.
            return .setting(\.timeouts.freezerPoll, .duration, default: .value(.milliseconds(100)), example: ["50ms"],
                            "How often a cgroup v1 freezer.state is read (v2 cgroup.events notifies instead).")
        case .vmRestoreWatch:
            return .setting(\.vmRestoreWatch, .toggle, default: .value(true), example: ["false"],
                            "Watch the VM generation (vmgenid, VMClock) and drop every pooled connection when the VM is restored from a snapshot.")
        case .allow:
            return .setting(\.allow, .list(.allowRule), default: .value([]), example: ["10.0.0.0/8", "*.example.com"],
                            "Destinations callers may reach (CIDR, host or *.domain); required on a non-loopback listener.")
        case .connectPort:
            // The log field kept its plural from before the table, for log queries already written against it.
            return .setting(\.connectPorts, .list(.port), default: .value([443]), example: ["443", "8443"],
                            "Ports CONNECT may tunnel to.", logField: "connect_ports")
        case .workers:
            // One loop per core, and more than 64 cores for a sidecar is a mistake.
            return .setting(\.workers, .count(in: 1...64), default: .value(1), example: ["2"],
                            "Event loops, each with its own listener and pools (1...64).")
        case .adminTokenFile:
            return .setting(\.adminTokenFile, .optionalText("file"), default: .value(nil), example: ["/run/berth/token"],
                            "File holding the admin bearer token; required on a non-loopback admin listener.")
        case .metricsUpstreams:
            return .setting(\.metricsUpstreams, .choice("a metrics-upstreams choice"), default: .value(.active),
                            example: ["all"],
                            "Upstreams with series of their own in /metrics: none (totals only), active (in use lately) or all.")
        case .metricsPerUpstream:
            return .alias(of: .metricsUpstreams, \.metricsUpstreams, .bool, meaning: { $0 ? .all : .none },
                          example: ["false"], "Deprecated: use --metrics-upstreams (true means all, false means none).")
        case .logFormat:
            return .setting(\.logFormat, .choice("a log format"), default: .value(.logfmt), example: ["json"],
                            "Log line encoding on stderr.")
        case .logLevel:
            return .setting(\.logLevel, .choice("a log level", valueName: "level"), default: .value(.info), example: ["debug"],
                            "Lowest level logged: trace, debug, info, notice, warning, error, critical.")
        case .accessLog:
            return .setting(\.accessLog, .toggle, default: .value(false), example: ["true"], "Log one line per request.")
        case .via:
            return .setting(\.via, .optionalFieldValue("string"), default: .value("1.1 berth"), example: ["1.1 edge"],
                            "Value of the Via header berth adds; empty adds none.")
        case .replay:
            return .setting(\.replay, .choice("a replay policy"), default: .value(.idempotent), example: ["unread"],
                            "Requests sent again on a fresh connection when a reused one ended before any response byte: "
                                + "idempotent (bodiless idempotent or Idempotency-Key requests) or unread (any request whose "
                                + "body fits the replay buffer; a server that read it and died would run it twice).",
                            perDestination: \.replay)
        case .replayBuffer:
            // Linkerd's limit for the same feature: a JSON activation fits, an upload does not.
            return .setting(\.replayBuffer, .size(in: 1...16 << 20), default: .value(64 << 10), example: ["128KiB"],
                            "Largest request body kept for a replay under replay: unread (bytes, KiB or MiB).")
        case .replayMemory:
            return .setting(\.replayMemory, .size(in: 1...1 << 30), default: .value(16 << 20), example: ["4MiB"],
                            "Memory all replay copies may hold at once; past it a request streams without one.")
        case .headMemory:
            // A partial head costs about its size: without a total, max-callers × the 64 KiB head limit (gigabytes
            // under a container's RLIMIT_NOFILE). 64 MiB holds a thousand heads at the limit, or every caller's 1 KiB.
            return .setting(\.headMemory, .size(in: 64 << 10...1 << 34), default: .value(64 << 20), example: ["16MiB"],
                            "Memory all unfinished request heads may hold at once (split over the workers); past it the "
                                + "caller holding the most is answered 431 head-memory and closed.")
        case .deadPeerTimeout:
            // Above the 200 ms delayed-ACK ceiling, so a live peer's kernel has acknowledged by then; below most
            // socket timeouts, so a vanished peer costs a quarter second, not the whole timeout.
            return .setting(\.timeouts.deadPeer, .duration, default: .value(.milliseconds(250)), example: ["400ms"],
                            "A reused connection whose request the peer's kernel has not acknowledged after this is dead: "
                                + "it is reset and the request goes again on a fresh connection.")
        case .deadPeerRetry:
            // The server cannot have read bytes its kernel never acknowledged, so any method may go again.
            return .setting(\.deadPeerRetry, .toggle, default: .value(true), example: ["false"],
                            "Send a request a dead peer never acknowledged again on a fresh connection, whatever its method "
                                + "(off: answer 502 dead-peer instead).")
        case .unix:
            return .destinationOnly(\.unixSocket, .unixSocketPath, example: ["/run/fn/42/http.sock"],
                                    "Unix socket the destination's connections go to; callers still name its host and port.")
        case .tls:
            // Per destination it takes `true`, `false` or the settings mapping (DestinationTLS+Parsing.swift).
            return .setting(\.tls, .toggle, default: .value(false), example: ["true"],
                            "Reach every destination over TLS unless its entry says tls: false (https:// targets always are).",
                            destination: DestinationTLS.field)
        }
    }
}

extension ConfigKey {
    /// The keys that are settings of their own, each with a flag, a variable and a top-level YAML key: all but
    /// those only a destination entry sets.
    public static var topLevel: [ConfigKey] { allCases.filter { $0.definition.topLevel } }

    /// The kebab-case name shared by the flag (`--name`) and the YAML key.
    public var name: String { rawValue }

    /// The environment variable, e.g. `BERTH_SOCKET_TIMEOUT`.
    public var environmentVariable: String { Self.environmentName(of: rawValue) }

    /// `BERTH_` and the name upper-cased with underscores, for keys and for the file-only `destinations`.
    static func environmentName(of key: String) -> String {
        "BERTH_" + String(key.uppercased().map { $0 == "-" ? "_" : $0 })
    }

    /// How the flag takes its value.
    public var flagShape: FlagShape { definition.shape }

    /// Keys that take several values: repeated flags, comma-separated variables, YAML sequences.
    public var isList: Bool { flagShape == .list }

    /// The placeholder shown in help, e.g. `duration`.
    public var valueName: String { definition.valueName }

    /// One line for `--help`: the summary, the default and the environment variable.
    public var help: String {
        let definition = definition
        return [definition.summary, definition.defaultNote, "[\(environmentVariable)]"].filter { !$0.isEmpty }
            .joined(separator: " ")
    }

    /// The key a deprecated alias sets, nil for every other key.
    public var aliasTarget: ConfigKey? { definition.aliasOf }

    /// The field this key fills on the startup log line, nil for an alias (its target has the field) and for a
    /// destination-only key.
    public var logField: String? {
        guard definition.aliasOf == nil, definition.topLevel else { return nil }
        return definition.logField ?? String(name.map { $0 == "-" ? "_" : $0 })
    }
}
