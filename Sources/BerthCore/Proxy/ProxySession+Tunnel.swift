// Tunnels: CONNECT to an allowlisted port, and Upgrade after a 101. Bytes flow both ways untouched; the connection holds its pool slot until the tunnel ends.
import Glibc
import HTTP1
import EventLoop

extension ProxySession: TunnelOwner {
    /// Whether the current request may only go out on a connection of its own: a CONNECT tunnels over a fresh
    /// socket, never over one that already spoke HTTP.
    @inline(__always)
    var needsFreshConnection: Bool {
        if case .connect = exchange.request.method { return true }
        return false
    }

    /// CONNECT host:port: checks the port and the allowlist, then asks the endpoint's pool for a slot like any request,
    /// so a tunnel waits, is refused or is held by a pause under the same limits (max-total, max-per-route,
    /// max-pending, the acquire timeout) and holds its slot until it ends.
    func beginTunnel(_ key: PoolKey, now: Nanos) {
        // After the 200 the byte stream is no longer HTTP: a CONNECT berth refuses leaves none to reuse.
        if !key.isRoutable {
            return answer(.badRequest, detail: key.refusal ?? "\(key) names no destination", closeAfter: true)
        }
        guard worker.settings.connectPorts.contains(key.port), isAllowed(key) else {
            return answer(.destinationDenied, detail: "CONNECT to \(key) is not allowed", closeAfter: true)
        }
        guard let pool = manager.tunnelPool(for: key, now: now) else {
            let cap = manager.settings.maxUpstreams
            return answer(.tooManyUpstreams, detail: "berth knows max-upstreams (\(cap)) upstreams and none is idle enough to forget")
        }
        // Named once routed, as a GET's upstream is its pool's: one refused above went nowhere, and its access line
        // says `upstream=-` as a refused GET's does (its `target` names the destination for both).
        exchange.key = key
        exchange.pool = pool
        if exchange.request.namesGeneration && !admitGeneration(pool) { return }
        acquire(allowReuse: false)
    }

    /// The CONNECT target answered: acknowledge and start relaying.
    func tunnelConnected(_ lease: consuming UpstreamLease) {
        worker.counters[.tunnels] &+= 1
        caller.write(ErrorResponse.connectEstablished)
        enterTunnel(with: lease)
    }

    /// A 101 arrived for an upgrading request: the upstream connection becomes a tunnel and keeps its pool slot.
    func startUpgrade() {
        guard machine.state.holdsLease else { return }
        guard RelayDriver.writeHead(&responseParser, version: exchange.request.version, keepAlive: true,
                                    options: worker.settings.forward, to: caller) else { return close() }
        exchange.response = .complete
        guard let lease = machine.takeLease(rerouting: true) else { return }
        lease.conn.channel.clearTimeout()
        worker.counters[.tunnels] &+= 1
        enterTunnel(with: lease)
    }

    /// Hands the caller and the lease's connection to a tunnel of their own; the session hears again when it ends.
    private func enterTunnel(with lease: consuming UpstreamLease) {
        // A side that acknowledges nothing for an idle timeout is gone, even while the other keeps sending (each
        // byte read restarts the tunnel's idle timeout); on a Unix socket the option fails, harmlessly.
        Socket.limitUnacknowledged(lease.conn.channel.fd, nanos: worker.settings.callerIdleTimeout)
        Socket.limitUnacknowledged(caller.fd, nanos: worker.settings.callerIdleTimeout)
        let t = Tunnel(caller: caller, peer: lease.conn.channel, highWater: worker.settings.highWater,
                       idleTimeout: worker.settings.callerIdleTimeout, owner: self)
        machine.tunnel(t, lease)
        if !t.start() { close() }
    }

    func tunnelEnded(flushCaller: Bool, resetCaller: Bool) {
        worker.tick()
        // The tunnel closed its peer; its slot goes back now, and the caller's events come back here for the last
        // flush or the close.
        if let lease = machine.endTunnel() { manager.tunnelEnded(lease) }
        caller.delegate = self
        if resetCaller { resetsCaller = true }
        if flushCaller { closeAfterFlush() } else { close() }
    }
}
