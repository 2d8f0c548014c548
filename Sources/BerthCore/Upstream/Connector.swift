// Resolve, connect and the connect timeout in one place, for pooled, tunnel and prewarmed connections alike.
import Glibc
import EventLoop

/// Hears how a connect went. Exactly one of the two is called per `start`, unless the connect is cancelled.
protocol ConnectorClient: AnyObject {
    /// The connection is up; the client owns `channel` from now on.
    func connectSucceeded(_ channel: Channel)
    /// No connection: why (dns-failure, connect-refused, connect-timeout, connect-denied) and a detail for the log and the answer.
    func connectFailed(_ cause: ErrorCause, detail: String)
}

/// Opens one connection at a time to a host and port: resolves the name and connects without blocking. The lookup
/// and the connect are each bounded by the connect timeout (a slow resolver is a slow connect). Reusable: a session
/// keeps one for all its connects.
final class Connector: ChannelDelegate, EventHandler {
    private enum Phase {
        case idle
        case resolving(PoolKey)
        case connecting(Channel, SocketAddress)
    }

    private let base: EventBase
    private let resolver: UpstreamResolver
    /// Unowned: the client owns the connector and cancels it before it goes.
    private unowned(unsafe) let client: ConnectorClient
    private var phase = Phase.idle
    private var timer: LoopEvent!
    /// Changes with every start and cancel, so a late DNS answer for an earlier connect is dropped.
    private var serial: UInt64 = 0

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

    /// Starts connecting to `key` within `timeout`. The answer may come before this returns (IP literals, loopback).
    func start(_ key: PoolKey, timeout: Nanos, now: Nanos) {
        precondition(!isBusy, "a connector runs one connect at a time")
        serial &+= 1
        let mine = serial
        phase = .resolving(key)
        timer.add(after: timeout)
        if let socket = resolver.unixAddress(for: key) { return resolved(key, [socket], timeout: timeout) }
        resolver.resolve(key.bareHost, port: key.port, now: now) { [self] addresses in
            // Strong on purpose: a weak reference would give the connector a side table; stale answers are dropped.
            guard mine == self.serial, case .resolving(let key) = self.phase else { return }
            self.resolved(key, addresses, timeout: timeout)
        }
    }

    private func resolved(_ key: PoolKey, _ addresses: [SocketAddress], timeout: Nanos) {
        guard let address = addresses.first else {
            return fail(.dnsFailure, "\(key.host) did not resolve")
        }
        switch Channel.connect(base: base, to: address, timeout: timeout, delegate: self) {
        case .failed(let err):
            fail(Self.cause(ofConnectError: err), "connect to \(address): \(String(cString: strerror(err)))")
        case .inProgress(let ch):
            // The channel carries its own connect timer; the connector's covered the lookup.
            timer.remove()
            phase = .connecting(ch, address)
        case .connected(let ch):
            phase = .connecting(ch, address)
            finish(ch, address)
        }
    }

    private func finish(_ ch: Channel, _ address: SocketAddress) {
        ch.clearTimeout()
        let err = Socket.pendingError(ch.fd)
        guard err == 0 else {
            return fail(Self.cause(ofConnectError: err), "connect to \(address): \(String(cString: strerror(err)))")
        }
        timer.remove()
        phase = .idle
        client.connectSucceeded(ch)
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
        if case .connecting(let ch, _) = phase { ch.close() }
        phase = .idle
    }

    /// Frees the timer; the connector is not used again.
    func free() {
        stop()
        timer.free()
    }

    func channelWritable(_ channel: Channel) {
        guard case .connecting(let ch, let address) = phase, ch === channel else { return }
        finish(ch, address)
    }

    func channelReadable(_ channel: Channel) {}

    func channelTimedOut(_ channel: Channel) {
        guard case .connecting(_, let address) = phase else { return }
        fail(.connectTimeout, "no connection to \(address) within the connect timeout")
    }

    func handleEvent(_ tag: EventTag, what: Int16) {
        // The lookup did not answer within the connect timeout: it counts as part of connecting.
        guard case .resolving(let key) = phase else { return }
        fail(.dnsFailure, "\(key.host) did not resolve within the connect timeout")
    }
}
