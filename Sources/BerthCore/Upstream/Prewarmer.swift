// Opens connections ahead of demand after /resume?prewarm=N, so the first requests after a thaw skip the connect.
import EventLoop

/// One connection being opened ahead of demand, into a slot the pool reserved for it.
final class Prewarmer: ConnectorClient {
    private let pool: Upstream
    unowned let worker: Worker
    private var connector: Connector!
    /// The slot, held until the connect ends; taken exactly once.
    private var ticket: ConnectTicket?
    /// The connect failed; read just after `Connector.start`, it means the connect failed inside it.
    private var failedAtOnce = false

    private init(pool: Upstream, worker: Worker, ticket: consuming ConnectTicket) {
        self.pool = pool
        self.worker = worker
        self.ticket = Optional(ticket)
        connector = Connector(base: worker.base, resolver: worker.resolver, client: self)
    }

    /// Starts up to `count` connects within the limits; returns how many started (under way or already up).
    static func start(count: Int, pool: Upstream, worker: Worker) -> Int {
        var started = 0
        for _ in 0..<count {
            guard let ticket = worker.manager.reservePrewarm(pool) else { break }
            let p = Prewarmer(pool: pool, worker: worker, ticket: ticket)
            worker.prewarmers[ObjectIdentifier(p)] = p
            p.connector.start(pool.key, timeout: pool.settings.connectTimeout, now: MonotonicClock.now())
            // A connect refused inside connect(2) (berth's own listener, a multicast address, no descriptor) has
            // freed its slot already, and the next would be refused the same way: counted as started, each took
            // the slot again, up to `count` (10,000) connects in one admin request, all of them "prewarmed" (adv2).
            if p.failedAtOnce { break }
            started += 1
        }
        return started
    }

    func connectSucceeded(_ channel: Channel) {
        guard let t = ticket.take() else { return channel.close() }
        worker.manager.prewarmed(t, pool: pool, channel: channel, now: MonotonicClock.now())
        done()
    }

    /// Never heard: a prewarm connects (`Connector.start`) and never only looks a name up.
    func nameResolved() {}

    func connectFailed(_ cause: ErrorCause, detail: String) {
        failedAtOnce = true
        if let t = ticket.take() { worker.manager.connectFailed(t) }
        done()
    }

    private func done() {
        connector.free()
        worker.prewarmers[ObjectIdentifier(self)] = nil
    }
}
