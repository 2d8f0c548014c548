// Tunnels: CONNECT to an allowlisted port, and Upgrade after a 101. Bytes flow both ways untouched and the socket is never pooled.
import Glibc
import HTTP1
import EventLoop

extension ProxySession: TunnelOwner {
    /// CONNECT host:port: checks the port and the allowlist, then connects outside the pool.
    func beginTunnel(_ key: PoolKey, now: Nanos) {
        x.key = key
        // After the 200 the byte stream is no longer HTTP: a CONNECT berth refuses leaves none to reuse.
        guard key.isResolvable else {
            return answer(.badRequest, detail: "\(key.host) is not a valid host name", closeAfter: true)
        }
        guard worker.settings.connectPorts.contains(key.port), worker.isAllowed(key) else {
            return answer(.destinationDenied, detail: "CONNECT to \(key) is not allowed", closeAfter: true)
        }
        link = .tunnelConnecting
        machine.connecting()
        connectorForUse().start(key, timeout: worker.manager.settings.route.connectTimeout, now: now)
    }

    /// The CONNECT target answered: acknowledge and start relaying.
    func tunnelConnected(_ ch: Channel) {
        worker.counters[.tunnels] &+= 1
        caller.write(ErrorResponse.connectEstablished)
        enterTunnel(with: ch)
    }

    /// A 101 arrived for an upgrading request: the upstream connection leaves the pool and becomes a tunnel.
    func startUpgrade() {
        guard link.connection != nil else { return }
        guard RelayDriver.writeHead(responseParser, version: x.request.version, keepAlive: true,
                                    options: worker.settings.forward, to: caller) else { return close() }
        x.response = .complete
        guard let lease = link.takeLease() else { return }
        lease.conn.channel.clearTimeout()
        let ch = worker.manager.detach(lease)
        worker.counters[.tunnels] &+= 1
        enterTunnel(with: ch)
    }

    /// Hands the caller and `peer` to a tunnel of their own; the session hears again when it ends.
    private func enterTunnel(with peer: Channel) {
        machine.tunnel()
        let t = Tunnel(caller: caller, peer: peer, highWater: worker.settings.highWater,
                       idleTimeout: worker.settings.callerIdleTimeout, owner: self)
        link = .tunnel(t)
        if !t.start() { close() }
    }

    func tunnelEnded(flushCaller: Bool) {
        worker.tick()
        // The tunnel closed its peer; the caller's events come back here for the last flush or the close.
        link = .none
        caller.delegate = self
        if flushCaller { closeAfterFlush() } else { close() }
    }
}
