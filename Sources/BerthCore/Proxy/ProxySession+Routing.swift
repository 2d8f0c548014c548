// Routing a request to its pool and getting a connection: checkout, the pool's answers, and the Connector's.
import Glibc
import HTTP1
import EventLoop

extension ProxySession: PoolWaiter, ConnectorClient {
    /// A request head is complete: decide where it goes and get a connection. The head is read where it lies
    /// (`exchange.request`) and passed on inout, never copied out: a copy retains and releases each of its arrays.
    func beginExchange() {
        let now = worker.now
        // The exchange is clean: a new session's, or cleared when the last one ended (`endExchange`).
        exchange.startedAt = now
        parser.takeHead(into: &exchange.request)
        worker.counters[.requestsReceived] &+= 1
        exchange.callerKeepAlive = exchange.request.keepAlive && !worker.isShuttingDown
        // Framing first: whether the whole request was read decides whether an early answer may keep the caller.
        // A chunked body's last chunk waits for its whole trailer section (rewritten on its way, and never sent cut).
        exchange.requestBody = Body(exchange.request.framing, limits: worker.settings.limits, holdingLastChunk: true)
        if case .untilClose = exchange.requestBody {
            return answer(.badRequest, detail: "request body without framing")
        }
        // Only a head with a Via field is searched: one branch per request otherwise.
        if exchange.request.hasVia && exchange.request.headers.viaNames(worker.settings.viaName) {
            return answer(.forwardingLoop, detail: "the request already passed through this berth (its Via names it)")
        }

        // One owned reference whichever way it came (two branches binding it made the compiler retain it twice).
        guard let pool = cachedRoute() ?? routeAfresh(now: now) else { return }
        exchange.pool = pool
        if case .options = exchange.request.method, takeMaxForwards() { return }
        if case .trace = exchange.request.method, takeMaxForwards() { return }
        exchange.socketTimeout = pool.settings.socketTimeout
        // The presence bit first: a lookup by name classifies the name afresh (~180 instructions per request).
        if exchange.request.namesSocketTimeout, let override = ProxySession.field(&exchange.request, named: "berth-socket-timeout") {
            guard let d = DurationSyntax.nanoseconds(parsing: override) else {
                return answer(.badRequest, detail: "Berth-Socket-Timeout is not a duration (write 125ms, 2s or 5m)")
            }
            exchange.socketTimeout = min(d, worker.settings.socketCeiling)
        }
        // A request naming a new generation is for a server not known yet (`generationHeard`): judged once admitted.
        if exchange.request.namesGeneration { return beginNamingGeneration(pool) }
        if _slowPath(pool.answersHTTP10), sendsChunked { return refuseChunked(pool) }
        pool.counters[.requests] &+= 1
        if pool.settings.replay == .unread && !exchange.requestDone { takeReplayCopy(pool) }
        acquire(pool, allowReuse: true)
    }

    /// A field's value, looked up in place: `head` inout is passed borrowed, where one read out of the session
    /// would be copied (its arrays retained and released) for the call.
    @inline(never)
    private static func field(_ head: inout RequestHead, named name: String) -> String? {
        head.headers[name]
    }

    /// The route of a request the cache does not know (a new caller, a new upstream): the target or Host is parsed,
    /// checked against the allowlist and looked up in the pools, and remembered. Nil when the request was answered
    /// (or became a tunnel) instead. Out of line, with its own copy of the head: paid once per route change.
    @inline(never)
    private func routeAfresh(now: Nanos) -> Upstream? {
        let key: PoolKey
        let hostValue: String
        switch RouteTarget.route(of: exchange.request, settings: manager.settings) {
        case .pool(let k, let host):
            key = k
            hostValue = host
        case .tunnel(let target):
            beginTunnel(target, now: now)
            return nil
        case .refused(let cause, let detail):
            answer(cause, detail: detail)
            return nil
        }
        if _slowPath(!key.isRoutable) {
            answer(.badRequest, detail: key.refusal ?? "\(key) names no destination")
            return nil
        }
        guard isAllowed(key) else {
            answer(.destinationDenied, detail: "\(key) is not in the allowlist")
            return nil
        }
        guard let pool = manager.poolForRequest(key, routed: true, now: now) else {
            let cap = manager.settings.maxUpstreams
            answer(.tooManyUpstreams, detail: "berth knows max-upstreams (\(cap)) upstreams and none is idle enough to forget")
            return nil
        }
        route.remember(&exchange.request, pool: pool, hostValue: hostValue, generation: worker.routeGeneration)
        return pool
    }

    /// The request's body is chunked, which an upstream that answers in HTTP/1.0 must not be sent (`refuseChunked`).
    var sendsChunked: Bool {
        if case .chunked = exchange.request.framing { return true }
        return false
    }

    /// RFC 9112 6.1: no chunked request to a server not known to handle HTTP/1.1, and an upstream that answered an
    /// HTTP/1.1 request in HTTP/1.0 is known not to (`Upstream.answersHTTP10`): its server would read the chunks as
    /// its next request. Asked when the request is routed, and again when a connection is handed to it after a wait
    /// or a connect (a retry's too), as the answer that taught it may have come meanwhile.
    @inline(never)
    func refuseChunked(_ pool: Upstream) {
        answer(.badRequest, status: 411, detail: "\(pool.key) answers in HTTP/1.0, which has no chunked framing: send a Content-Length")
    }

    /// `refuseChunked` where a connection was just handed over (after a wait or a connect): it goes back unused first.
    @inline(never)
    func refuseChunked(_ pool: Upstream, givingBack lease: consuming UpstreamLease) {
        let conn = lease.conn
        manager.release(lease, facts: ReleaseFacts.unused(conn), now: worker.now)
        refuseChunked(pool)
        drive()
    }

    /// Whether the allowlist admits `key` (an empty list admits all; only allowed on a loopback listener).
    func isAllowed(_ key: PoolKey) -> Bool {
        let allow = worker.settings.allow
        if allow.isEmpty { return true }
        return allow.contains { DestinationMatcher.allows($0, key: key) }
    }

    /// Sets a replay buffer aside for this request's body, when one is free and the body can fit it.
    func takeReplayCopy(_ pool: Upstream) {
        if case .length(let n) = exchange.requestBody, n > UInt64(worker.replay.limit) {
            exchange.replay = .skipped(.bodyTooLarge)
            return pool.counters.countReplaySkip(.bodyTooLarge)
        }
        guard let buffer = worker.replay.take() else {
            exchange.replay = .skipped(.bufferFull)
            return pool.counters.countReplaySkip(.bufferFull)
        }
        exchange.replay = .holding(buffer)
    }

    /// Asks the exchange's pool for a connection (a retry, a CONNECT).
    func acquire(allowReuse: Bool) {
        guard let pool = exchange.pool else { return }
        // A retry's failed connection, or a CONNECT's new generation, may have been the last of a pool marked to forget.
        if _slowPath(pool.forgotten) {
            guard let live = livePool(replacing: pool) else { return }
            return acquire(live, allowReuse: allowReuse)
        }
        acquire(pool, allowReuse: allowReuse)
    }

    /// Asks `pool`, the exchange's, for a connection. The caller's reference is borrowed: one read out of
    /// `exchange.pool` here would be retained and released around the pool's calls.
    func acquire(_ pool: Upstream, allowReuse: Bool) {
        let now = worker.now
        // A CONNECT comes here from beginTunnel with allowReuse false, so requests pay no test for it.
        switch manager.acquire(pool, waiter: self, allowReuse: allowReuse, now: now) {
        case .reuse(let lease):
            pool.counters.observe(.acquireWait, 0)
            send(on: lease, reused: true)
        case .connect(let ticket):
            pool.counters.observe(.acquireWait, 0)
            connect(ticket, pool: pool)
        case .wait:
            let limit = pool.state.isPaused ? (pool.holdTimeout ?? pool.settings.acquireTimeout) : pool.settings.acquireTimeout
            apply(machine.queued(now: now, limit: limit, in: pool))
        case .reject(let cause):
            answer(cause, detail: cause == .upstreamPaused ? "\(pool.key) is paused" : "\(pool.key) has too many waiting requests")
        }
    }

    /// The pool to ask in place of `dead`, which a close made for this very request forgot (it was marked to forget
    /// and that close was its last connection's: a new `Berth-Generation` closing its idle connections, a failed
    /// reused connection before a retry). Its ledger slot is gone, so the request goes to the endpoint's pool of now,
    /// made anew, which keeps the generations `dead` knew; nil when the request was answered (--max-upstreams).
    /// Review7: the checkout trapped on the empty slot.
    @inline(never)
    func livePool(replacing dead: Upstream) -> Upstream? {
        let now = worker.now
        let made = needsFreshConnection ? manager.tunnelPool(for: dead.key, now: now) : manager.poolForRequest(dead.key, now: now)
        guard let live = made else {
            let cap = manager.settings.maxUpstreams
            answer(.tooManyUpstreams, detail: "berth knows max-upstreams (\(cap)) upstreams and none is idle enough to forget")
            return nil
        }
        if live.generations.current == nil { live.generations = dead.generations }
        exchange.pool = live
        return live
    }

    /// Opens a connection into the slot `ticket` reserves; the Connector answers (perhaps before this returns).
    /// A name DNS must be asked for first gives the slot back and is looked up (`lookUpFirst`).
    private func connect(_ ticket: consuming ConnectTicket, pool: Upstream) {
        if _slowPath(!exchange.lookedUpFirst && worker.resolver.mustAsk(pool.key, now: worker.now)) {
            manager.connectFailed(ticket)
            return lookUpFirst(pool)
        }
        machine.connecting(ticket, tunnel: needsFreshConnection)
        exchange.facts.connectStartedAt = worker.now
        connectorForUse().start(pool.key, timeout: pool.settings.connectTimeout, now: worker.now)
    }

    /// Looks the pool's name up holding no connect place, then asks the pool again (`nameResolved`). A lookup holds
    /// no place of `max-total` or the route's limit, as nginx resolves a name before it opens the upstream
    /// connection: names whose DNS never answers (each caller waits on one lookup at most, bounded by the connect
    /// timeout) used to keep `max-total` full while a new connection to a literal or to a name that resolves waited
    /// in line, and got 503 `pool-timeout` (dns3). A connect to a blackholed address still holds its place.
    private func lookUpFirst(_ pool: Upstream) {
        exchange.lookedUpFirst = true
        // A lookup that fails is the connect's whole time (connect_ms), as when it ran inside the connect; one that
        // answers is not: the connect that follows starts the clock again.
        exchange.facts.connectStartedAt = worker.now
        connectorForUse().lookUp(pool.key, timeout: pool.settings.connectTimeout, now: worker.now)
    }

    func nameResolved() {
        worker.tick()
        guard case .routing = machine.phase else { return }
        // A generation named while the name was looked up may have replaced the request's, as during a queue wait.
        if let pool = exchange.pool, !generationStillCurrent(pool) {
            answerStaleGeneration(pool)
            return drive()
        }
        // As the request first asked: a retry and a CONNECT need a fresh connection, any other request may take one
        // released meanwhile (fresh-only, a burst to a new name closed a pooled connection for each).
        acquire(allowReuse: !needsFreshConnection && !exchange.retried)
        drive()
    }

    /// Whether the request waits for its name (`lookUpFirst`): it holds no place and has not left berth.
    var isLookingUp: Bool {
        guard case .routing = machine.phase else { return false }
        return connector?.isBusy ?? false
    }

    /// The drain ran out during the lookup: the request never left berth, so it is answered as a queued one is
    /// (`answerShuttingDown`), not cut: its caller may send it elsewhere (review15).
    func answerShuttingDownInLookup() {
        guard isLookingUp else { return }
        worker.tick()
        connector?.cancel()
        answer(.shuttingDown, detail: "berth is shutting down")
    }

    /// Whether the request's connection is still being made (a connect, a TLS handshake): none of it has gone out.
    var isConnecting: Bool {
        if case .connecting = machine.phase { return true }
        return false
    }

    /// The drain ended (for a CONNECT, began) while the connection was still being made: the request never left
    /// berth, so it is answered as a queued one is, not cut with no answer (signals: a TLS handshake half done or a
    /// connect not yet answered at the drain timeout closed the caller with nothing).
    func answerShuttingDownInConnect() {
        guard isConnecting else { return }
        worker.tick()
        connector?.cancel()
        if let ticket = machine.takeTicket() { manager.connectFailed(ticket) }
        answer(.shuttingDown, detail: "berth is shutting down")
    }

    /// Whether the request has not left berth: queued, waiting for its name's lookup, or its connection being made.
    var hasNotLeft: Bool { isQueued || isLookingUp || isConnecting }

    /// Answers a request that has not left berth (`hasNotLeft`) 503 `shutting-down`.
    func answerShuttingDownBeforeItLeft() {
        if isQueued { answerShuttingDown() } else if isLookingUp { answerShuttingDownInLookup() } else { answerShuttingDownInConnect() }
    }

    /// A CONNECT not given its connection yet (queued, its name looked up, or being connected): answered when the
    /// drain begins, as configuration.md's Shutdown says, since a tunnel has no end a drain could wait for (review15:
    /// it waited for the drain timeout).
    var isTunnelWaiting: Bool { needsFreshConnection && hasNotLeft }

    /// The session's connector, made on its first connect.
    func connectorForUse() -> Connector {
        if let c = connector { return c }
        let c = Connector(base: worker.base, resolver: worker.resolver, client: self)
        connector = c
        return c
    }

    // MARK: the pool's answers
    // The pool posts these (HandOffs) from other connections' events (a release, an idle close, an admin command);
    // each arrives on a loop turn of its own, once that event's callback has returned. A waiter that left in between
    // had its grant taken back (PoolManager.cancelWait). The loop's time is read afresh: the last session event may be
    // long past.

    func poolGranted(_ lease: consuming UpstreamLease) {
        worker.tick()
        guard let since = machine.queuedSince, exchange.pool.map({ generationStillCurrent($0) }) ?? true else {
            // The session is no longer queued, or its generation was replaced: give the connection straight back.
            let conn = lease.conn
            manager.release(lease, facts: ReleaseFacts.unused(conn), now: worker.now)
            return staleWhileWaiting()
        }
        let (pool, timer) = machine.waitEnded()
        apply(timer)
        pool.counters.observe(.acquireWait, worker.now - since)
        exchange.facts.acquireWait &+= worker.now - since
        // A CONNECT is queued as fresh-only, and the pool hands such a waiter a connect ticket, never a connection
        // that spoke HTTP (ConnectionPool.releaseStep's `replace`, resume's `allowReuse: !fresh`).
        precondition(!needsFreshConnection, "a CONNECT was handed a pooled connection")
        if _slowPath(pool.answersHTTP10), sendsChunked { return refuseChunked(pool, givingBack: lease) }
        send(on: lease, reused: true)
        drive()
    }

    func poolMayConnect(_ ticket: consuming ConnectTicket) {
        worker.tick()
        guard let since = machine.queuedSince, exchange.pool.map({ generationStillCurrent($0) }) ?? true else {
            manager.connectFailed(ticket)
            return staleWhileWaiting()
        }
        let (pool, timer) = machine.waitEnded()
        apply(timer)
        pool.counters.observe(.acquireWait, worker.now - since)
        exchange.facts.acquireWait &+= worker.now - since
        connect(ticket, pool: pool)
        drive()
    }

    func poolRejected(_ cause: ErrorCause) {
        worker.tick()
        guard let since = machine.queuedSince else { return }
        // The pool took the session out of its queue itself.
        let (pool, timer) = machine.waitEnded()
        apply(timer)
        exchange.facts.acquireWait &+= worker.now - since
        answer(cause, detail: "\(pool.key) is paused")
        drive()
    }

    /// The pool had nothing within the acquire timeout (or the pause's hold).
    func acquireTimedOut(waited: Nanos) {
        guard machine.queuedSince != nil else { return }
        let (pool, timer) = machine.waitEnded()
        manager.cancelWait(pool, waiter: self)
        exchange.facts.acquireWait &+= waited
        apply(timer)
        let ms = waited / 1_000_000
        if pool.state.isPaused {
            answer(.upstreamPaused, detail: "\(pool.key) stayed paused for the whole hold (\(ms) ms)")
        } else {
            answer(.poolTimeout, detail: "no connection to \(pool.key) within the acquire timeout (waited \(ms) ms)")
        }
    }

    /// The drain ran out with this request still queued in a pool: it is answered rather than cut.
    func answerShuttingDown() {
        guard machine.queuedSince != nil else { return }
        worker.tick()
        let (pool, timer) = machine.waitEnded()
        manager.cancelWait(pool, waiter: self)
        apply(timer)
        answer(.shuttingDown, detail: "berth is shutting down")
    }

    // MARK: the Connector's answers

    func connectSucceeded(_ channel: Channel) {
        worker.tick()
        // The Connector answers only while its slot is held (close() frees it first), so the state holds the ticket.
        guard let ticket = machine.takeTicket() else { return channel.close() }
        let lease = manager.connected(ticket, pool: exchange.pool!, channel: channel, now: worker.now)
        guard generationStillCurrent(exchange.pool!) else { return staleAfterConnect(lease) }
        if _slowPath(exchange.pool!.state.isPaused) { return pausedAfterConnect(lease) }
        if _slowPath(exchange.pool!.answersHTTP10), sendsChunked {
            return refuseChunked(exchange.pool!, givingBack: lease)
        }
        if needsFreshConnection { tunnelConnected(lease) } else { send(on: lease, reused: false) }
        drive()
    }

    /// The connect finished after the pool was paused (/pause, or the freezer watch saw the container frozen): the
    /// request has not left berth, so it waits as one that arrived during the pause does (held, or refused with
    /// `mode=reject`). Sent, it would sit unread in a frozen container's socket until the thaw, cut at the socket
    /// timeout. The connection, whose connect straddled the pause, closes unused (`paused`); the request asks the
    /// pool again as it first asked (`nameResolved`).
    @inline(never)
    private func pausedAfterConnect(_ lease: consuming UpstreamLease) {
        let conn = lease.conn
        manager.release(lease, facts: ReleaseFacts.unused(conn), now: worker.now)
        acquire(allowReuse: !needsFreshConnection && !exchange.retried)
        drive()
    }

    func connectFailed(_ cause: ErrorCause, detail: String) {
        worker.tick()
        if let ticket = machine.takeTicket() { manager.connectFailed(ticket) }
        answer(cause, detail: detail)
        drive()
    }

    // MARK: route cache

    /// The pool of the previous request when this one names the same route the same way and nothing changed since.
    private func cachedRoute() -> Upstream? {
        guard let pool = route.pool, !pool.forgotten, route.generation == worker.routeGeneration,
              route.isAbsolute == (exchange.request.targetForm == .absolute) else { return nil }
        return route.matches(&exchange.request) ? pool : nil
    }
}
