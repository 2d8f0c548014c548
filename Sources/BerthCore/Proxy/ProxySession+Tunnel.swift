// Tunnels: CONNECT to an allowlisted port, and Upgrade after a 101. Bytes flow both ways untouched and the socket is never pooled.
import Glibc
import HTTP1
internal import CLibevent

extension ProxySession {
    /// CONNECT host:port: checks the port and the allowlist, then connects outside the pool.
    func beginTunnel(_ key: PoolKey, now: Nanos) {
        x.key = key
        guard key.isResolvable else {
            worker.counters.countFailure(.badRequest)
            x.errorCause = .badRequest
            ErrorResponse.write(status: 400, cause: .badRequest, detail: "\(key.host) is not a valid host name", keepAlive: false, headOnly: false, into: caller)
            return closeAfterFlush()
        }
        guard worker.settings.connectPorts.contains(key.port), worker.isAllowed(key) else {
            worker.counters.countFailure(.destinationDenied)
            x.errorCause = .destinationDenied
            ErrorResponse.write(status: 403, cause: .destinationDenied, detail: "CONNECT to \(key) is not allowed", keepAlive: false, headOnly: false, into: caller)
            return closeAfterFlush()
        }
        x.isTunnel = true
        apply(machine.resolving(connectTimeout: worker.manager.settings.route.connectTimeout))
        let serial = x.serial
        worker.resolver.resolve(key.bareHost, port: key.port, now: now) { [self] addresses in
            // Strong on purpose (see resolveAndConnect); answers for an earlier exchange are dropped.
            guard serial == self.x.serial else { return }
            self.tunnelResolved(addresses)
        }
    }

    private func tunnelResolved(_ addresses: [SocketAddress]) {
        guard machine.state == .resolving, let key = x.key else { return }
        apply(machine.waitEnded())
        guard let address = addresses.first else { return answerError(.dnsFailure, detail: "\(key.host) did not resolve") }
        if let err = beginConnect(to: address, timeout: worker.manager.settings.route.connectTimeout) {
            answerError(.connectRefused, detail: "connect to \(address): \(String(cString: strerror(err)))")
        }
    }

    /// The CONNECT target answered: acknowledge and start relaying.
    func tunnelConnected() {
        guard let ch = pending else { return }
        ch.clearTimeout()
        let err = Socket.pendingError(ch.fd)
        guard err == 0 else {
            pending = nil
            ch.close()
            return answerError(err == ETIMEDOUT ? .connectTimeout : .connectRefused, detail: "connect to \(x.address?.description ?? "?"): \(String(cString: strerror(err)))")
        }
        worker.counters[.tunnels] &+= 1
        caller.write(ErrorResponse.connectEstablished)
        enterTunnel(with: ch)
    }

    /// A 101 arrived for an upgrading request: the upstream connection leaves the pool and becomes a tunnel.
    func startUpgrade(_ head: ResponseHead) {
        guard let up = upstream else { return }
        guard writeResponseHead(head, keepAlive: true, options: worker.settings.forward) else { return close() }
        x.responseHeadSent = true
        upstream = nil
        up.channel.clearTimeout()
        worker.manager.detach(up)
        worker.counters[.tunnels] &+= 1
        enterTunnel(with: up.channel)
    }

    private func enterTunnel(with ch: Channel) {
        pending = ch
        ch.delegate = self
        let timer = machine.tunnel(idleTimeout: worker.settings.callerIdleTimeout)
        ch.startReading()
        caller.startReading()
        // Bytes that arrived early on either side belong to the tunnel.
        evbuffer_add_buffer(ch.output, caller.input)
        evbuffer_add_buffer(caller.output, ch.input)
        guard ch.flush(), caller.flush() else { return close() }
        apply(timer)
    }

    /// Relays what one side sent to the other; stops reading a side whose peer is not keeping up.
    func tunnelReadable(from ch: Channel) {
        guard let other = ch === caller ? pending : caller else { return }
        if ch !== caller {
            switch ch.read() {
            case .data: break
            case .wouldBlock: return
            case .eof, .failed: return tunnelPeerClosed(ch)
            }
        }
        evbuffer_add_buffer(other.output, ch.input)
        guard other.flush() else { return close() }
        if other.pendingOutput > worker.settings.highWater { ch.stopReading() }
        apply(machine.tunnelTraffic(idleTimeout: worker.settings.callerIdleTimeout))
    }

    /// One side of the tunnel drained its output: let the other side send again.
    func tunnelDrained(_ ch: Channel) {
        if ch.writeError != 0 { return close() }
        let other = ch === caller ? pending : caller
        other?.startReading()
    }

    /// One side closed: the other gets what is left, then the tunnel ends.
    func tunnelPeerClosed(_ ch: Channel) {
        guard let other = ch === caller ? pending : caller else { return close() }
        evbuffer_add_buffer(other.output, ch.input)
        _ = other.flush()
        if other === caller {
            if let p = pending {
                pending = nil
                p.close()
            }
            closeAfterFlush()
        } else {
            close()
        }
    }
}
