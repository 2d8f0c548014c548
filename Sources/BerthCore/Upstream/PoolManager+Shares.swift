// With several workers, the counts of an entry one of them dropped, taken by a worker that still serves its upstream.
import EventLoop

extension PoolManager {
    /// Takes another worker's forgotten share of `key` into this worker's pool of it, when it has one and no other
    /// worker took the share first (`claim`). An upstream's series add up the shares of the workers that know it, and
    /// a worker forgetting its share (its table full, or quiet on that worker alone) took its counts out of them while
    /// the others still served the upstream: the counter went down, a reset to Prometheus (adv11). The counts move
    /// from this worker's forgotten totals into the pool in one step on its loop, so the sum over workers, which
    /// already holds them in the forgetting worker's totals, never counts them twice (the arithmetic wraps, so a
    /// worker's own forgotten totals may pass below zero; only their sum is ever read).
    func takeShare(_ key: PoolKey, _ counts: UpstreamCounters, claim: ShareClaim) {
        guard let pool = pools[key], !pool.forgotten, claim.take() else { return }
        pool.counters.merge(counts)
        forgottenTotals.subtract(counts)
    }
}

/// Lets one worker only take a forgotten share offered to all the others.
final class ShareClaim: Sendable {
    private let taken = ThreadLock(false)

    /// True for the first caller, false for every later one.
    func take() -> Bool {
        taken.withLock { t in
            if t { return false }
            t = true
            return true
        }
    }
}
