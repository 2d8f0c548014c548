// Tunnels: CONNECT to an allowlisted port, and Upgrade after a 101. Bytes flow both ways untouched and the socket is never pooled.
import Glibc
import HTTP1
import EventLoop

extension ProxySession {
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
        worker.counters.tunnels &+= 1
        caller.write(ErrorResponse.connectEstablished)
        enterTunnel(with: ch)
    }

    /// A 101 arrived for an upgrading request: the upstream connection leaves the pool and becomes a tunnel.
    func startUpgrade(_ head: ResponseHead) {
        guard link.connection != nil else { return }
        guard writeResponseHead(head, keepAlive: true, options: worker.settings.forward) else { return close() }
        x.responseHeadSent = true
        guard let lease = link.takeLease() else { return }
        lease.conn.channel.clearTimeout()
        let ch = worker.manager.detach(lease)
        worker.counters.tunnels &+= 1
        enterTunnel(with: ch)
    }

    private func enterTunnel(with ch: Channel) {
        link = .tunnel(ch)
        ch.delegate = self
        let timer = machine.tunnel(idleTimeout: worker.settings.callerIdleTimeout)
        ch.startReading()
        caller.startReading()
        // Bytes that arrived early on either side belong to the tunnel.
        caller.moveAllInput(to: ch)
        ch.moveAllInput(to: caller)
        guard ch.flush(), caller.flush() else { return close() }
        apply(timer)
    }

    /// Relays what one side sent to the other; stops reading a side whose peer is not keeping up.
    func tunnelReadable(from ch: Channel) {
        guard let other = ch === caller ? link.tunnelPeer : caller else { return }
        if ch !== caller {
            switch ch.read() {
            case .data: break
            case .wouldBlock: return
            case .eof, .failed: return tunnelPeerClosed(ch)
            }
        }
        ch.moveAllInput(to: other)
        guard other.flush() else { return close() }
        if other.pendingOutput > worker.settings.highWater { ch.stopReading() }
        apply(machine.tunnelTraffic(idleTimeout: worker.settings.callerIdleTimeout))
    }

    /// One side of the tunnel drained its output: let the other side send again.
    func tunnelDrained(_ ch: Channel) {
        if ch.writeError != 0 { return close() }
        let other = ch === caller ? link.tunnelPeer : caller
        other?.startReading()
    }

    /// One side closed: the other gets what is left, then the tunnel ends.
    func tunnelPeerClosed(_ ch: Channel) {
        guard let other = ch === caller ? link.tunnelPeer : caller else { return close() }
        ch.moveAllInput(to: other)
        _ = other.flush()
        if other === caller {
            link.tunnelPeer?.close()
            link = .none
            closeAfterFlush()
        } else {
            close()
        }
    }
}
