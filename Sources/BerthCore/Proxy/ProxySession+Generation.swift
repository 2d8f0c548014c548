// Berth-Generation on the session: a request that names its container's generation, and one that names a replaced one.
import HTTP1

extension ProxySession {
    /// The request names a generation (`RequestHead.namesGeneration`): checks its syntax and lets the pool judge it.
    /// False when the request was answered (400 for bad syntax, 409 `stale-generation` for a replaced generation).
    func admitGeneration(_ pool: Upstream) -> Bool {
        let values = exchange.request.headers.values(named: "berth-generation")
        guard values.count == 1, let token = values.first, Generations.isValid(token) else {
            let detail = values.count > 1 ? "Berth-Generation: name one generation, not \(values.count)"
                                          : "Berth-Generation: write 1 to \(Generations.maxLength) visible ASCII characters (a container id)"
            answer(.badRequest, detail: detail)
            return false
        }
        switch manager.nameGeneration(token, at: pool, now: worker.now) {
        case .current, .change:
            exchange.generation = token
            return true
        case .stale:
            exchange.generation = token
            answerStaleGeneration(pool)
            return false
        }
    }

    /// The rest of `beginExchange` for a request that names a generation: admitted, it asks the pool for a connection.
    /// A new generation closes the pool's idle connections, which may have been the last of a pool marked to forget:
    /// the request then goes to the endpoint's new entry (`livePool`). Out of line: requests without the header never
    /// come here, and pay nothing for it.
    @inline(never)
    func beginNamingGeneration(_ pool: Upstream) {
        guard admitGeneration(pool) else { return }
        guard let live = pool.forgotten ? livePool(replacing: pool) : pool else { return }
        if _slowPath(live.answersHTTP10), sendsChunked { return refuseChunked(live) }
        live.counters[.requests] &+= 1
        if live.settings.replay == .unread && !exchange.requestDone { takeReplayCopy(live) }
        acquire(live, allowReuse: true)
    }

    /// Whether a request that named a generation may still take a connection handed to it now: one that waited in
    /// the queue or for a connect may have seen its generation replaced meanwhile, and a connection the pool hands
    /// out now belongs to the newer one. A request without the header pays one test.
    @inline(__always)
    func generationStillCurrent(_ pool: Upstream) -> Bool {
        guard let g = exchange.generation else { return true }
        return pool.generations.current == g
    }

    /// A queued request was handed a connection or a slot (already given back) while its generation had been
    /// replaced: it is refused. Nothing to do when the session was no longer queued.
    func staleWhileWaiting() {
        guard machine.queuedSince != nil else { return }
        // The queue the state names is the pool to answer for, as in poolRejected.
        let (pool, timer) = machine.waitEnded()
        apply(timer)
        answerStaleGeneration(pool)
        drive()
    }

    /// A connect for a request whose generation was replaced while it was being made: the new connection reached
    /// whatever listens there now, and is never used; its epoch is the old one, so the release closes it.
    func staleAfterConnect(_ lease: consuming UpstreamLease) {
        let conn = lease.conn
        manager.release(lease, facts: ReleaseFacts.unused(conn), now: worker.now)
        answerStaleGeneration(exchange.pool!)
        drive()
    }

    /// Refuses the request: its generation was replaced at its address.
    func answerStaleGeneration(_ pool: Upstream) {
        answer(.staleGeneration, detail: "\(pool.key.endpoint) serves a newer generation than \(exchange.generation ?? "")")
    }
}
