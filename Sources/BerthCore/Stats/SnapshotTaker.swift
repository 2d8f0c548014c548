// Takes one worker's StatsSnapshot a slice of pools per loop turn, so that 10,000 upstreams never hold its loop long.
import EventLoop

/// Walks a worker's pools in slices of at most `sliceTime`, yielding to the loop's other events between them, and
/// hands the snapshot over when the walk is done. The pools are the ones present when the walk began (held, so one
/// forgotten meanwhile is still read once, its counts not yet in the forgotten totals read at the start); figures are
/// read over a few milliseconds rather than at one instant, and counters never go backwards.
final class SnapshotTaker {
    /// Taken out for each slice: adding to a class's stored struct copied the whole snapshot (~2 KB) per pool.
    private var snapshot: StatsSnapshot?
    private let pools: [Upstream]
    private var next = 0
    /// Pools to list in full; nil lists every one.
    private let listed: Set<PoolKey>?
    private let summarize: Bool
    private unowned let worker: Worker
    private let done: (StatsSnapshot) -> Void
    /// Longest one slice runs before the worker's loop serves its other events.
    static let sliceTime: Nanos = 500_000
    /// Pools handled between two looks at the clock.
    private static let poolsPerClockCheck = 32

    /// A walk over `worker`'s pools listing those in `listed` (all when nil) and, with `summarize`, summarizing
    /// the rest; `done` runs on the worker's thread.
    init(_ worker: Worker, listed: Set<PoolKey>?, summarize: Bool, done: @escaping (StatsSnapshot) -> Void) {
        var s = StatsSnapshot(header: worker)
        pools = Array(worker.manager.pools.values)
        if listed == nil { s.pools.reserveCapacity(pools.count) }
        if listed == nil || summarize { s.summaries.reserveCapacity(pools.count) }
        snapshot = s
        self.listed = listed
        self.summarize = summarize
        self.worker = worker
        self.done = done
    }

    /// Runs the first slice now; the rest follow on later loop turns (a zero timer fires after the I/O that is ready).
    func start() {
        let deadline = MonotonicClock.now() + SnapshotTaker.sliceTime
        var s = snapshot.take()!
        while next < pools.count {
            let end = min(pools.count, next + SnapshotTaker.poolsPerClockCheck)
            while next < end {
                let p = pools[next]
                s.add(p, listed: listed?.contains(p.key) ?? true, summarize: summarize)
                next += 1
            }
            if next < pools.count && MonotonicClock.now() >= deadline {
                snapshot = s
                // The timer holds the walk until its next slice.
                OneShotTimer(base: worker.base) { self.worker.holdingForAdmin { self.start() } }.start(after: 0)
                return
            }
        }
        s.takenAt = MonotonicClock.now()
        done(s)
    }
}
