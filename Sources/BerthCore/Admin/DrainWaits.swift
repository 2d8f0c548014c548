// The `/pause?drain=` waits one worker holds, each dropped once its admin connection has closed.
import Synchronization
import EventLoop

/// Whether an admin connection has closed, readable from every worker's thread (a `/pause?drain=` waits on all).
final class AdminConnectionLife: Sendable {
    private let closed = Atomic<Bool>(false)

    /// An open connection's.
    init() {}

    /// True once the connection closed: nobody is left to answer.
    var isClosed: Bool { closed.load(ordering: .relaxed) }

    /// The connection closed.
    func end() { closed.store(true, ordering: .relaxed) }
}

/// One worker's part of one `/pause?drain=`: the timer for its `drain=` time and its waiter on each busy pool.
final class DrainWait {
    let life: AdminConnectionLife
    var timer: OneShotTimer?
    var waiters: [(pool: Upstream, waiter: DrainWaiter)] = []
    /// Gives the worker's answer at once (the stop's drain has ended what was in flight).
    var answerNow: (() -> Void)?

    /// A wait for the connection `life` stands for.
    init(life: AdminConnectionLife) { self.life = life }
}

extension Worker {
    /// Keeps `wait` until `endDrainWait`. Waits whose admin connection has closed are dropped first: an admin client
    /// that asks `/pause?drain=1h` and hangs up, in a loop, left a timer and its waiters per request for the whole
    /// hour (~350 bytes each); now a worker holds at most one wait per open admin connection, and one per connection
    /// closed since the last `/pause?drain=`.
    func keepDrainWait(_ wait: DrainWait) {
        for w in drainWaits where w.life.isClosed { endDrainWait(w) }
        drainWaits.append(wait)
    }

    /// The wait is over (its pools drained, its time ran out, or its connection closed): its timer and its waiters go.
    func endDrainWait(_ wait: DrainWait) {
        drainWaits.removeAll { $0 === wait }
        wait.timer?.cancel()
        wait.timer = nil
        wait.answerNow = nil
        for (pool, waiter) in wait.waiters { manager.stopAwaitingDrain(pool, waiter) }
        wait.waiters = []
    }

    /// A stop's drain is over on every worker: nothing is in flight, so each wait still held is answered now, with
    /// the state it finds (its pools paused, `in_flight` 0), instead of on a loop turn that never runs.
    func answerDrainWaits() {
        for wait in drainWaits {
            let answer = wait.answerNow
            endDrainWait(wait)
            if !wait.life.isClosed { answer?() }
        }
    }
}
