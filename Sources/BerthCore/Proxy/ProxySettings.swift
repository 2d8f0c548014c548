// The values the data path reads per request, converted once from the configuration to nanoseconds.
import HTTP1

/// Data-path settings of one worker.
struct ProxySettings: Sendable {
    var headerTimeout: Nanos
    /// Longest time from a response head's first byte to its end (`response-head-timeout`).
    var responseHeadTimeout: Nanos = 10_000_000_000
    var callerIdleTimeout: Nanos
    var socketCeiling: Nanos
    var allow: [AllowRule]
    var connectPorts: Set<Int>
    var forward: ForwardOptions
    /// What keep-alive answers to HTTP/1.1 callers announce (`KeepAliveLine`, from `announcedKeepAlive`); 0 for none.
    var keepAliveTail: UInt64 = 0
    /// This instance's Via received-by (`berth-3f9a1c2b`): a request whose Via names it came back to berth. Empty
    /// when berth adds no Via.
    var viaName: [UInt8] = []
    var limits: HTTP1Limits
    /// The access log's format, nil when it is off (one test per request either way).
    var accessLog: LogFormat?
    /// Largest request body kept for a replay, and how many such copies this worker may hold at once.
    var replayBuffer: Int
    var replayBuffers: Int
    /// How long a reused connection's request may go unacknowledged before the peer is dead (0: no check), and
    /// whether such a request goes again on a fresh connection.
    var deadPeerTimeout: Nanos = 0
    var deadPeerRetry = true
    /// Output above this stops reading from the other side until it drains: bounded memory per exchange.
    var highWater = 256 * 1024
    /// Pipelined bytes berth buffers from a caller before it stops reading from it.
    var maxPipelinedInput = 64 * 1024
    /// Relay steps one event may take before the session yields to the rest of the loop (memcached's reqs_per_event).
    /// An ordinary request and response take under ten; only a long burst of small chunks needs more.
    var relayStepsPerEvent = 64
    /// --max-callers, counted over all workers (`CallerGauge`); unlimited when the configuration left it unresolved,
    /// as in-process tests do.
    var maxCallers = Int.max
    /// This worker's share of --head-memory: bytes its unfinished request heads may hold at once (`Worker.headBytes`).
    var headMemory = Int.max

    /// Settings from the resolved configuration, for worker `index` of `count`.
    init(_ c: BerthConfiguration, worker index: Int = 0, of count: Int = 1) {
        headerTimeout = c.timeouts.headerRead.nanos
        responseHeadTimeout = c.timeouts.responseHead.nanos
        callerIdleTimeout = c.timeouts.callerIdle.nanos
        socketCeiling = c.timeouts.socketCeiling.nanos
        allow = c.allow
        connectPorts = Set(c.connectPorts)
        var f = ForwardOptions()
        let stamp = ViaStamp.stamp(c.via)
        f.via = stamp?.value
        viaName = stamp?.receivedBy ?? []
        f.alsoDrop = ["berth-socket-timeout", "berth-generation"]
        keepAliveTail = KeepAliveLine.tail(seconds: announcedKeepAlive(callerIdleTimeout: callerIdleTimeout))
        forward = f
        limits = .default
        accessLog = c.accessLog ? c.logFormat : nil
        replayBuffer = c.replayBuffer
        replayBuffers = max(1, c.replayMemory / max(c.replayBuffer, 1))
        deadPeerTimeout = c.timeouts.deadPeer.nanos
        deadPeerRetry = c.deadPeerRetry
        if let m = c.limits.maxCallers { maxCallers = m }
        // Configurations built by hand (in-process tests) leave it 0: unbounded, as max-callers is there. A share
        // never falls below one head at the limits, or a lawful large head could never be read on that worker.
        if c.headMemory > 0 {
            let oneHead = limits.maxStartLineBytes + limits.maxHeaderSectionBytes
            headMemory = max(workerShare(c.headMemory, index: index, count: count), oneHead)
        }
    }
}

/// What berth announces to HTTP/1.1 callers as `Keep-Alive: timeout=N` for a caller idle timeout: one second less
/// than the timeout, in whole seconds and at least 1, so a request a pooling client sends just before its own
/// deadline still reaches berth before berth's (the second covers the round trip and the client's own lateness). A
/// timeout from 1 s to 2 s announces 1 with less margin; below one second nothing is announced, as `timeout=0` tells
/// many clients (Apache HttpClient 4.5 among them) to keep the connection for ever.
func announcedKeepAlive(callerIdleTimeout t: Nanos) -> Int? {
    let seconds = Int(t / 1_000_000_000)
    guard seconds >= 1 else { return nil }
    return max(1, seconds - 1)
}

/// Worker `index`'s share of a limit split over `count` workers; the shares add up to the limit exactly.
func workerShare(_ limit: Int, index: Int, count: Int) -> Int {
    limit / count + (index < limit % count ? 1 : 0)
}

extension ManagerSettings {
    /// Pool settings from the resolved configuration, for worker `index` of `count`: each worker owns its share of
    /// every limit, so the global limits hold across workers without any lock on the data path.
    init(_ c: BerthConfiguration, worker index: Int = 0, of count: Int = 1) {
        let share = { (limit: Int) in workerShare(limit, index: index, count: count) }
        self.init(
            maxTotal: share(c.limits.maxTotal),
            idleTimeout: c.timeouts.idle.nanos,
            maxAge: c.timeouts.maxConnectionAge.nanos,
            maxRequests: c.limits.maxRequestsPerConnection,
            route: RouteSettings(
                maxPerRoute: share(c.limits.maxPerRoute),
                maxPending: share(c.limits.maxPending),
                socketTimeout: c.timeouts.socket.nanos,
                connectTimeout: c.timeouts.connect.nanos,
                acquireTimeout: c.timeouts.acquire.nanos,
                replay: c.replay,
                handshakeTimeout: c.timeouts.tlsHandshake.nanos
            ),
            destinations: c.destinations,
            tlsByDefault: c.tls,
            workerIndex: index,
            workerCount: count,
            freezerPollInterval: c.timeouts.freezerPoll.nanos
        )
        maxUpstreams = c.limits.maxUpstreams
        configuredMaxPerRoute = c.limits.maxPerRoute
        configuredMaxPending = c.limits.maxPending
    }
}
