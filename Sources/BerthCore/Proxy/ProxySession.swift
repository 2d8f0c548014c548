// One caller connection: reads request heads, routes each to its upstream pool, and relays the exchange in order.
import Glibc
import HTTP1
internal import CLibevent

/// A caller connection and its current exchange. Requests are answered one at a time, in order (pipelining included).
final class ProxySession: ChannelDelegate, PoolWaiter {
    /// Unowned(unsafe): the worker outlives its sessions, and this is read several times per request.
    unowned(unsafe) let worker: Worker
    let caller: Channel
    let waiterID: Int
    /// Where the session is and what its caller timer runs to (pure; this class carries out its verdicts).
    var machine = CallerMachine()
    var parser: RequestHeadParser
    var responseParser: ResponseHeadParser
    var x = Exchange()
    /// The pooled connection of the current exchange.
    var upstream: UpstreamConnection?
    /// A socket being connected, or the upstream side of a CONNECT tunnel (never pooled).
    var pending: Channel?
    /// The route of the previous request (Host value or absolute-form scheme and authority, as sent): callers send
    /// request after request to one upstream, so the parse, allowlist check and pool lookup are done once per change.
    var route = RouteCache()

    init(worker: Worker, fd: CInt) {
        self.worker = worker
        self.caller = Channel(base: worker.base, fd: fd)
        self.waiterID = worker.manager.makeID()
        self.parser = RequestHeadParser(limits: worker.settings.limits)
        self.responseParser = ResponseHeadParser(limits: worker.settings.limits)
        caller.delegate = self
    }

    /// Starts reading the first request.
    func start() {
        Socket.setNoDelay(caller.fd)
        caller.startReading()
        apply(machine.started(idleTimeout: worker.settings.callerIdleTimeout))
    }

    /// Carries out the machine's verdict on the caller's timer.
    @inline(__always)
    func apply(_ timer: CallerMachine.Timer) {
        switch timer {
        case .arm(let after): caller.setTimeout(after, now: worker.now)
        case .clear: caller.clearTimeout()
        case .keep: break
        }
    }

    // MARK: events
    // Each entry point reads the clock once (worker.tick()); everything it calls uses worker.now.

    func channelReadable(_ channel: Channel) {
        worker.tick()
        if channel === caller {
            callerReadable()
        } else if let up = upstream, channel === up.channel {
            upstreamReadable()
        } else if channel === pending, machine.state == .tunnel {
            tunnelReadable(from: channel)
        }
    }

    func channelWritable(_ channel: Channel) {
        worker.tick()
        if channel === caller {
            callerDrained()
        } else if channel === pending && machine.state == .connecting {
            connectCompleted()
        } else if let up = upstream, channel === up.channel {
            upstreamDrained()
        } else if channel === pending && machine.state == .tunnel {
            tunnelDrained(channel)
        }
    }

    func channelTimedOut(_ channel: Channel) {
        worker.tick()
        if channel === caller {
            callerTimedOut()
        } else if channel === pending && machine.state == .connecting {
            connectTimedOut()
        } else if let up = upstream, channel === up.channel {
            upstreamTimedOut()
        } else if channel === pending && machine.state == .tunnel {
            close()
        }
    }

    // MARK: caller side

    private func callerReadable() {
        switch caller.read() {
        case .data:
            break
        case .wouldBlock:
            return
        case .eof, .failed:
            callerGone()
            return
        }
        switch machine.state {
        case .idle, .readingHead:
            parseHeads()
        case .exchanging:
            if !x.requestDone { pumpRequestBody() }
            holdPipelinedInput()
        case .tunnel:
            tunnelReadable(from: caller)
        case .resolving, .acquiring, .connecting:
            holdPipelinedInput()
        case .closing, .closed:
            evbuffer_drain(caller.input, caller.pendingInput)
        }
    }

    /// Stops reading a caller that sends ahead more than berth buffers; reading resumes with the next head.
    private func holdPipelinedInput() {
        if x.requestDone && caller.pendingInput > worker.settings.maxPipelinedInput { caller.stopReading() }
    }

    /// The caller closed or reset its connection.
    private func callerGone() {
        if machine.state == .tunnel {
            tunnelPeerClosed(caller)
            return
        }
        // Mid-exchange, the upstream connection cannot be trusted to be at a message boundary: close() aborts it.
        close()
    }

    /// Parses as many heads as the buffered input holds; starts an exchange on the first complete one.
    func parseHeads() {
        while machine.awaitingHead {
            var len = 0
            guard let ptr = berth_evbuffer_first_chunk(caller.input, &len), len > 0 else { return }
            apply(machine.headBytes(now: worker.now, headerTimeout: worker.settings.headerTimeout))
            let result: HeadParseResult
            do {
                result = try parser.parse(UnsafeRawBufferPointer(start: ptr, count: len))
            } catch {
                evbuffer_drain(caller.input, caller.pendingInput)
                rejectHead(error)
                return
            }
            switch result {
            case .needMore:
                evbuffer_drain(caller.input, len)
            case .complete(let consumed):
                evbuffer_drain(caller.input, consumed)
                apply(machine.headComplete())
                beginExchange()
            }
        }
    }

    /// A head the codec refused: its status, then close (the byte stream has no trustworthy boundary any more).
    private func rejectHead(_ error: HTTP1Error) {
        worker.counters[.badRequests] &+= 1
        ErrorResponse.write(status: error.status, cause: .badRequest, detail: "\(error)", keepAlive: false, headOnly: false, into: caller)
        closeAfterFlush()
    }

    private func callerTimedOut() {
        switch machine.timedOut(now: worker.now) {
        case .headerTimeout:
            // Slowloris: a head that dribbles in is cut off, whatever its pace.
            worker.counters[.headerTimeouts] &+= 1
            ErrorResponse.write(status: 408, cause: .headerTimeout, detail: "request head not received in time", keepAlive: false, headOnly: false, into: caller)
            closeAfterFlush()
        case .close:
            // Idle between requests, or a caller that stopped reading what berth has for it (close() aborts the upstream).
            close()
        case .acquireTimedOut(let waited):
            acquireTimedOut(waited: waited)
        case .resolveTimedOut:
            // The resolver did not answer within the connect timeout: the lookup counts as part of connecting.
            if !x.isTunnel, let pool = x.pool { worker.manager.connectFailed(pool) }
            answerError(.dnsFailure, detail: "\(x.key?.host ?? "host") did not resolve within the connect timeout")
        case .ignore:
            break
        }
    }

    private func callerDrained() {
        switch machine.state {
        case .closing:
            close()
        case .exchanging:
            apply(machine.callerDrained())
            if let up = upstream, !x.responseDone {
                up.channel.startReading()
                up.channel.setTimeout(x.socketTimeout, now: worker.now)
            }
        case .tunnel:
            tunnelDrained(caller)
        default:
            break
        }
    }

    // MARK: routing

    /// A request head is complete: decide where it goes and get a connection.
    private func beginExchange() {
        let now = worker.now
        x.reset(now: now)
        parser.takeHead(into: &x.request)
        worker.counters[.requestsReceived] &+= 1
        let req = x.request
        x.callerKeepAlive = req.keepAlive && !worker.isShuttingDown

        let pool: UpstreamPool
        if let cached = cachedRoute(req) {
            pool = cached
        } else {
            // Absolute-form wins over Host, as RFC 9112 3.2.2 requires of a proxy.
            let authority: Authority
            let hostValue: String
            switch req.targetForm {
            case .absolute:
                guard req.scheme == "http", let a = req.targetAuthority else {
                    return failEarly(.notImplemented, status: 501, detail: "only http:// targets are proxied; use CONNECT for TLS")
                }
                authority = a
                hostValue = a.port.map { "\(a.host):\($0)" } ?? a.host
            case .authority:
                guard let a = req.targetAuthority, let port = a.port else {
                    return failEarly(.badRequest, status: 400, detail: "CONNECT needs host:port")
                }
                return beginTunnel(PoolKey(host: a.host, port: port), now: now)
            case .origin, .asterisk:
                guard let host = req.headers["host"], let a = Authority(parsing: Substring(host)) else {
                    return failEarly(.badRequest, status: 400, detail: "no Host header to route by")
                }
                authority = a
                hostValue = host
            }
            let key = PoolKey(host: authority.host, port: authority.port ?? 80)
            guard key.isResolvable else {
                return failEarly(.badRequest, status: 400, detail: "\(key.host) is not a valid host name")
            }
            guard worker.isAllowed(key) else {
                return failEarly(.destinationDenied, status: 403, detail: "\(key) is not in the allowlist")
            }
            pool = worker.manager.pool(for: key, now: now)
            remember(req, pool: pool, hostValue: hostValue)
        }
        x.key = pool.key
        x.pool = pool
        x.socketTimeout = pool.settings.socketTimeout
        if let override = req.headers["berth-socket-timeout"] {
            guard let d = DurationSyntax.nanoseconds(parsing: override) else {
                return failEarly(.badRequest, status: 400, detail: "Berth-Socket-Timeout: write 125ms, 2s or 5m")
            }
            x.socketTimeout = min(d, worker.settings.socketCeiling)
        }
        switch req.framing {
        case .none:
            x.requestDone = true
        case .contentLength(let n):
            x.requestRemaining = n
            x.requestDone = n == 0
        case .chunked:
            x.requestDecoder = BodyDecoder(framing: .chunked, limits: worker.settings.limits)
            x.requestDone = false
        case .untilClose:
            return failEarly(.badRequest, status: 400, detail: "request body without framing")
        }
        pool.counters[.requests] &+= 1
        acquire(allowReuse: true)
    }

    /// Asks the pool for a connection.
    func acquire(allowReuse: Bool) {
        guard let pool = x.pool else { return }
        let now = worker.now
        switch worker.manager.acquire(pool, waiter: self, allowReuse: allowReuse, now: now) {
        case .reuse(let conn):
            pool.counters.observe(.acquireWait, 0)
            send(on: conn, reused: true)
        case .connect:
            pool.counters.observe(.acquireWait, 0)
            x.connectEpoch = pool.state.epoch
            resolveAndConnect()
        case .wait:
            let limit = pool.state.isPaused ? (pool.holdTimeout ?? pool.settings.acquireTimeout) : pool.settings.acquireTimeout
            apply(machine.queued(now: now, limit: limit))
        case .reject(let cause):
            answerError(cause, detail: cause == .upstreamPaused ? "\(pool.key) is paused" : "\(pool.key) has too many waiting requests")
        }
    }

    // The pool calls these from other connections' events (a release, an idle close, an admin command): the loop's
    // time is read afresh, since the last session event may be long past.
    func poolGranted(_ connection: UpstreamConnection) {
        worker.tick()
        guard let since = machine.queuedSince, let pool = x.pool else {
            // The session ended while queued: give the connection straight back.
            worker.manager.release(connection, facts: idleFacts(connection), now: worker.now)
            return
        }
        apply(machine.waitEnded())
        pool.counters.observe(.acquireWait, worker.now - since)
        send(on: connection, reused: true)
    }

    func poolMayConnect() {
        worker.tick()
        guard let since = machine.queuedSince, let pool = x.pool else {
            if let pool = x.pool { worker.manager.connectFailed(pool) }
            return
        }
        apply(machine.waitEnded())
        pool.counters.observe(.acquireWait, worker.now - since)
        x.connectEpoch = pool.state.epoch
        resolveAndConnect()
    }

    func poolRejected(_ cause: ErrorCause) {
        worker.tick()
        guard machine.queuedSince != nil, let pool = x.pool else { return }
        apply(machine.waitEnded())
        answerError(cause, detail: "\(pool.key) is paused")
    }

    private func acquireTimedOut(waited: Nanos) {
        guard let pool = x.pool else { return }
        worker.manager.cancelWait(pool, waiter: self)
        let ms = waited / 1_000_000
        if pool.state.isPaused {
            answerError(.upstreamPaused, detail: "\(pool.key) stayed paused for the whole hold (\(ms) ms)")
        } else {
            answerError(.poolTimeout, detail: "no connection to \(pool.key) within the acquire timeout (waited \(ms) ms)")
        }
    }

    /// Facts for a connection that never carried a request (handed to a session that had already gone).
    func idleFacts(_ c: UpstreamConnection) -> ReleaseFacts {
        ReleaseFacts(responseComplete: true, requestComplete: true, keepAlive: true, failure: nil, requestsServed: c.requestsServed, openedAt: c.openedAt, epoch: c.epoch)
    }

    /// The pool of the previous request when this one names the same route the same way and nothing changed since.
    private func cachedRoute(_ req: RequestHead) -> UpstreamPool? {
        guard let pool = route.pool, !pool.forgotten, route.generation == worker.routeGeneration else { return nil }
        return RouteCache.withRouteBytes(req) { bytes in
            guard let bytes, bytes.count > 0, route.isAbsolute == (req.targetForm == .absolute), bytes.count == route.bytes.count else { return nil }
            let same = route.bytes.withUnsafeBytes { memcmp($0.baseAddress!, bytes.baseAddress!, bytes.count) == 0 }
            return same ? pool : nil
        }
    }

    private func remember(_ req: RequestHead, pool: UpstreamPool, hostValue: String) {
        RouteCache.withRouteBytes(req) { bytes in
            guard let bytes else { return }
            route.bytes.removeAll(keepingCapacity: true)
            route.bytes.append(contentsOf: bytes)
        }
        route.isAbsolute = req.targetForm == .absolute
        route.pool = pool
        route.hostValue = hostValue
        route.generation = worker.routeGeneration
    }

    // MARK: connecting

    private func resolveAndConnect() {
        guard let key = x.key, let pool = x.pool else { return }
        apply(machine.resolving(connectTimeout: pool.settings.connectTimeout))
        let serial = x.serial
        worker.resolver.resolve(key.bareHost, port: key.port, now: worker.now) { [self] addresses in
            // Strong on purpose: a weak reference would give the session a side table and slow every retain.
            // An answer for an earlier exchange (one that timed out) is dropped.
            guard serial == self.x.serial else { return }
            self.worker.tick()
            self.resolved(addresses)
        }
    }

    private func resolved(_ addresses: [SocketAddress]) {
        guard machine.state == .resolving, let pool = x.pool else { return }
        apply(machine.waitEnded())
        guard let address = addresses.first else {
            worker.manager.connectFailed(pool)
            answerError(.dnsFailure, detail: "\(pool.key.host) did not resolve")
            return
        }
        if let err = beginConnect(to: address, timeout: pool.settings.connectTimeout) {
            worker.manager.connectFailed(pool)
            answerError(.connectRefused, detail: "connect to \(address): \(String(cString: strerror(err)))")
        }
    }

    /// Starts a non-blocking connect to `address` (pooled or tunnel); errno when it failed at once.
    func beginConnect(to address: SocketAddress, timeout: Nanos) -> Int32? {
        x.address = address
        switch Channel.connect(base: worker.base, to: address, timeout: timeout, delegate: self) {
        case .failed(let err):
            return err
        case .inProgress(let ch):
            pending = ch
            machine.connecting()
        case .connected(let ch):
            pending = ch
            machine.connecting()
            connectCompleted()
        }
        return nil
    }

    /// The connect finished (or failed): the pooled path or the tunnel takes it from here.
    private func connectCompleted() {
        if x.isTunnel { tunnelConnected() } else { connectFinished() }
    }

    private func connectFinished() {
        guard let ch = pending, let pool = x.pool else { return }
        ch.clearTimeout()
        let err = Socket.pendingError(ch.fd)
        guard err == 0 else {
            pending = nil
            ch.close()
            worker.manager.connectFailed(pool)
            let cause: ErrorCause = err == ETIMEDOUT ? .connectTimeout : .connectRefused
            answerError(cause, detail: "connect to \(x.address?.description ?? pool.key.description): \(String(cString: strerror(err)))")
            return
        }
        pending = nil
        let conn = worker.manager.connected(pool, channel: ch, epoch: x.connectEpoch, now: worker.now)
        send(on: conn, reused: false)
    }

    private func connectTimedOut() {
        guard let ch = pending else { return }
        pending = nil
        ch.close()
        if let pool = x.pool { worker.manager.connectFailed(pool) }
        answerError(.connectTimeout, detail: "no connection to \(x.address?.description ?? x.key?.description ?? "upstream") within the connect timeout")
    }

    // MARK: answering

    /// Answers the current request with berth's own error, if nothing of the response has gone out yet.
    func answerError(_ cause: ErrorCause, detail: String) {
        guard machine.state != .closed else { return }
        x.errorCause = cause
        x.pool?.counters.countFailure(cause)
        worker.counters.countFailure(cause)
        if x.responseHeadSent {
            // Part of the upstream's response is out: the only honest signal left is to cut the connection.
            close()
            return
        }
        // The caller's byte stream stays usable only if its whole request body was read.
        let keep = x.callerKeepAlive && x.requestDone && !worker.isShuttingDown
        ErrorResponse.write(status: cause.status, cause: cause, detail: detail, keepAlive: keep, headOnly: x.request.method == .head, into: caller)
        endExchange(keepCaller: keep)
    }

    /// An error before any upstream was chosen.
    private func failEarly(_ cause: ErrorCause, status: Int, detail: String) {
        x.errorCause = cause
        worker.counters.countFailure(cause)
        let keep = x.callerKeepAlive && x.requestDone && x.request.framing == .none
        ErrorResponse.write(status: status, cause: cause, detail: detail, keepAlive: keep, headOnly: x.request.method == .head, into: caller)
        endExchange(keepCaller: keep)
    }

    /// The exchange is over on the caller side: next request, or close.
    func endExchange(keepCaller: Bool) {
        worker.accessLog(self)
        guard caller.flush() else { return close() }
        if keepCaller && !worker.isShuttingDown {
            apply(machine.nextRequest(idleTimeout: worker.settings.callerIdleTimeout))
            caller.startReading()
            if caller.pendingInput > 0 { parseHeads() }
        } else {
            closeAfterFlush()
        }
    }

    /// Closes once the output has left.
    func closeAfterFlush() {
        caller.stopReading()
        // A failed flush leaves nothing worth waiting for.
        let left = caller.pendingOutput > 0 && caller.flush() && caller.pendingOutput > 0
        switch machine.closing(outputPending: left, idleTimeout: worker.settings.callerIdleTimeout) {
        case .now: close()
        case .afterFlush(let timer): apply(timer)
        }
    }

    /// Tears the session down: every socket it holds is closed or returned.
    func close() {
        let was = machine.close()
        guard was != .closed else { return }
        if case .acquiring = was, let pool = x.pool { worker.manager.cancelWait(pool, waiter: self) }
        if was == .connecting || was == .resolving, !x.isTunnel, let pool = x.pool {
            worker.manager.connectFailed(pool)
        }
        if let ch = pending {
            pending = nil
            if was == .tunnel { _ = ch.flush() }
            ch.close()
        }
        abortUpstream(reason: .callerAborted)
        caller.close()
        worker.sessionEnded(self)
    }

    /// Whether the session is between requests, so shutdown may close it at once.
    var isIdle: Bool { machine.isIdle }
}
