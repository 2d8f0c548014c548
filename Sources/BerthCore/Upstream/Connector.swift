// Resolve, connect, the TLS handshake and their timeouts in one place, for pooled, tunnel and prewarmed connections alike.
import Glibc
import Logging
import EventLoop

/// Hears how a connect went. Exactly one of the two is called per `start`, unless the connect is cancelled.
protocol ConnectorClient: AnyObject {
    /// The worker the connect runs on: its pools hold the TLS inputs of TLS keys, its logger takes the details of
    /// failed handshakes (the caller only hears the cause).
    var worker: Worker { get }
    /// The connection is up (and, for a TLS key, its handshake done); the client owns `channel` from now on.
    func connectSucceeded(_ channel: Channel)
    /// The name `lookUp` was asked for has addresses, cached by the resolver for the connect that follows.
    func nameResolved()
    /// No connection: why (dns-failure, connect-refused, connect-timeout, connect-denied, tls-...) and a detail for the log and the answer.
    func connectFailed(_ cause: ErrorCause, detail: String)
}

/// Opens one connection at a time to a host and port: resolves the name, connects without blocking and, for a
/// TLS key, runs the handshake on the connected socket. The lookup and the connect are each bounded by the connect
/// timeout (a slow resolver is a slow connect); the handshake by the pool's handshake timeout. Reusable: a session
/// keeps one for all its connects.
final class Connector: ChannelDelegate, EventHandler {
    private enum Phase {
        case idle
        /// Waiting for DNS; `connecting` is false for `lookUp`, which stops at the answer.
        case resolving(PoolKey, connecting: Bool)
        /// With the TLS pool when the key is a TLS one: its handshake follows.
        case connecting(Channel, SocketAddress, Upstream?)
        /// The channel carries the TLS connection from its creation; the pool is the one the key names.
        case handshaking(Channel, Upstream)
    }

    private let base: EventBase
    private let resolver: UpstreamResolver
    /// Unowned: the client owns the connector and cancels it before it goes.
    private unowned(unsafe) let client: ConnectorClient
    private var phase = Phase.idle
    private var timer: LoopEvent!
    /// Changes with every start and cancel, so a late DNS answer for an earlier connect is dropped.
    private var serial: UInt64 = 0
    /// The wait for the name while `.resolving` through DNS, given up when the connect stops first.
    private var lookup: Resolver.Lookup?

    init(base: EventBase, resolver: UpstreamResolver, client: ConnectorClient) {
        self.base = base
        self.resolver = resolver
        self.client = client
        timer = LoopEvent(timerOn: base, handler: self, tag: .timer)
    }

    /// Whether a connect is under way.
    var isBusy: Bool {
        if case .idle = phase { return false }
        return true
    }

    /// The socket being connected or handshaken, if any: the channel whose events a test without a loop delivers.
    var channelInProgress: Channel? {
        switch phase {
        case .connecting(let ch, _, _), .handshaking(let ch, _): return ch
        default: return nil
        }
    }

    /// Starts connecting to `key` within `timeout`. The answer may come before this returns (IP literals, loopback).
    func start(_ key: PoolKey, timeout: Nanos, now: Nanos) {
        begin(key, timeout: timeout, now: now, connecting: true)
    }

    /// Looks `key`'s name up within `timeout`, and connects nowhere: `nameResolved` when it has addresses (cached
    /// for the connect that follows), `connectFailed` with dns-failure when it has none or none came in time. A
    /// session asks this before it takes a connect place, so a name whose DNS is silent holds none (dns3).
    func lookUp(_ key: PoolKey, timeout: Nanos, now: Nanos) {
        begin(key, timeout: timeout, now: now, connecting: false)
    }

    private func begin(_ key: PoolKey, timeout: Nanos, now: Nanos, connecting: Bool) {
        precondition(!isBusy, "a connector runs one connect at a time")
        serial &+= 1
        let mine = serial
        phase = .resolving(key, connecting: connecting)
        timer.add(after: timeout)
        if let socket = resolver.unixAddress(for: key) {
            return connecting ? resolved(key, [socket], timeout: timeout) : lookedUp(key, [socket])
        }
        let waited = resolver.resolve(key.bareHost, port: key.port, now: now) { [self] addresses in
            // Strong on purpose: a weak reference would give the connector a side table; stale answers are dropped.
            guard mine == self.serial, case .resolving(let key, let connecting) = self.phase else { return }
            self.lookup = nil
            if connecting { self.resolved(key, addresses, timeout: timeout) } else { self.lookedUp(key, addresses) }
        }
        // Kept only while this connect still waits: an answer given at once returns none, and may have ended (or
        // restarted) the connect already.
        if let waited, mine == serial { lookup = waited }
    }

    /// `lookUp`'s answer: the client hears of it, and the connector is free for the connect.
    private func lookedUp(_ key: PoolKey, _ addresses: [SocketAddress]) {
        guard !addresses.isEmpty else { return fail(.dnsFailure, "\(key.host) did not resolve") }
        timer.remove()
        phase = .idle
        client.nameResolved()
    }

    private func resolved(_ key: PoolKey, _ addresses: [SocketAddress], timeout: Nanos) {
        guard let address = addresses.first else {
            return fail(.dnsFailure, "\(key.host) did not resolve")
        }
        // Checked here, after resolution and before any connect: a name, a literal or a Unix socket that is berth's own
        // listener would be a loop (or the admin API reached through the proxy). Once per connect, never per request.
        if client.worker.ownListeners.contains(address) {
            return fail(.forwardingLoop, "\(key) is berth's own listener (\(address))")
        }
        // Every TLS connect is for a pool's key (sessions and prewarms connect for `pool.key`), and that pool holds
        // the handshake's inputs; one lookup per connect, none per request.
        let pool = key.tls == nil ? nil : client.worker.manager.existingPool(key)
        var tls: TLSClientSetup?
        if key.tls != nil {
            do {
                guard let upstream = pool?.tls else { throw TLSSettingsProblem(entry: "tls", message: "no TLS pool for \(key)") }
                tls = try upstream.setup()
            } catch {
                return handshakeFailed(key, TLSFailure(kind: .handshakeFailed, detail: "\(error)"), pool: pool)
            }
        }
        switch Channel.connect(base: base, to: address, timeout: timeout, delegate: self, tls: tls) {
        case .failed(let err):
            fail(Self.cause(ofConnectError: err), "connect to \(address): \(String(cString: strerror(err)))")
        case .inProgress(let ch):
            // The channel carries its own connect timer; the connector's covered the lookup.
            timer.remove()
            phase = .connecting(ch, address, pool)
        case .connected(let ch):
            phase = .connecting(ch, address, pool)
            finish(ch, address, pool)
        }
    }

    private func finish(_ ch: Channel, _ address: SocketAddress, _ tlsPool: Upstream?) {
        ch.clearTimeout()
        let err = Socket.pendingError(ch.fd)
        guard err == 0 else {
            return fail(Self.cause(ofConnectError: err), "connect to \(address): \(String(cString: strerror(err)))")
        }
        guard let pool = tlsPool else { return succeed(ch) }
        // The handshake is a phase of its own, with its own bound (tls-handshake-timeout).
        phase = .handshaking(ch, pool)
        timer.add(after: pool.settings.handshakeTimeout)
        stepHandshake(ch, pool)
    }

    /// Runs the handshake as far as the socket allows; the channel's events bring the next step.
    private func stepHandshake(_ ch: Channel, _ pool: Upstream) {
        switch ch.handshake() {
        case .waiting:
            return
        case .done(let resumed):
            pool.counters[resumed ? .tlsHandshakesResumed : .tlsHandshakesFull] &+= 1
            succeed(ch)
        case .failed(let failure):
            handshakeFailed(pool.key, failure, pool: pool)
        }
    }

    private func succeed(_ ch: Channel) {
        timer.remove()
        phase = .idle
        client.connectSucceeded(ch)
    }

    /// A handshake (or its setup) failed: counted, OpenSSL's reason logged, and the cause alone reported.
    private func handshakeFailed(_ key: PoolKey, _ failure: TLSFailure, pool: Upstream?) {
        pool?.counters[.tlsHandshakeFailures] &+= 1
        let cause: ErrorCause
        let said: String
        switch failure.kind {
        case .untrustedCertificate:
            cause = .tlsUntrustedCertificate
            said = "the certificate of \(key.endpoint) is not trusted"
        case .hostnameMismatch:
            cause = .tlsHostnameMismatch
            said = "the certificate of \(key.endpoint) is not for \(key.peerName)"
        case .handshakeFailed:
            cause = .tlsHandshakeFailed
            said = "the TLS handshake with \(key.endpoint) failed"
        }
        client.worker.logger.warning("TLS handshake failed", metadata: [
            "upstream": "\(key)", "server_name": "\(key.peerName)", "berth_error": "\(cause.rawValue)", "reason": "\(failure.detail)",
        ])
        fail(cause, said + "; see berth's log")
    }

    private func fail(_ cause: ErrorCause, _ detail: String) {
        stop()
        client.connectFailed(cause, detail: detail)
    }

    /// Abandons the connect under way, if any: nothing is reported.
    func cancel() {
        stop()
    }

    private func stop() {
        serial &+= 1
        timer.remove()
        // A lookup still waited on (a timeout, a caller gone) is given up: its query must not keep a place in flight.
        if let lookup {
            self.lookup = nil
            resolver.abandon(lookup)
        }
        switch phase {
        case .connecting(let ch, _, _), .handshaking(let ch, _): ch.close()
        case .idle, .resolving: break
        }
        phase = .idle
    }

    /// Frees the timer; the connector is not used again.
    func free() {
        stop()
        timer.free()
    }

    func channelWritable(_ channel: Channel) {
        switch phase {
        case .connecting(let ch, let address, let pool) where ch === channel:
            finish(ch, address, pool)
        case .handshaking(let ch, let pool) where ch === channel:
            stepHandshake(ch, pool)
        default:
            break
        }
    }

    func channelReadable(_ channel: Channel) {
        guard case .handshaking(let ch, let pool) = phase, ch === channel else { return }
        stepHandshake(ch, pool)
    }

    func channelTimedOut(_ channel: Channel) {
        guard case .connecting(_, let address, _) = phase else { return }
        fail(.connectTimeout, "no connection to \(address) within the connect timeout")
    }

    func handleEvent(_ tag: EventTag, what: Int16) {
        switch phase {
        case .resolving(let key, _):
            // The lookup did not answer within the connect timeout: it counts as part of connecting.
            fail(.dnsFailure, "\(key.host) did not resolve within the connect timeout")
        case .handshaking(_, let pool):
            pool.counters[.tlsHandshakeFailures] &+= 1
            let ms = pool.settings.handshakeTimeout / 1_000_000
            client.worker.logger.warning("TLS handshake timed out", metadata: ["upstream": "\(pool.key)", "timeout_ms": "\(ms)"])
            fail(.tlsHandshakeTimeout, "no TLS handshake with \(pool.key.endpoint) within \(ms) ms")
        case .idle, .connecting:
            break
        }
    }
}
