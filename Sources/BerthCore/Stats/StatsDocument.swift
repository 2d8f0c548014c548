// A /stats document rendered a slice of upstreams at a time, so that 10,000 of them never hold a loop for long.
import EventLoop

/// One /stats answer being written. The snapshot is a value taken once, so the slices make one consistent document
/// whatever the pools do between them; the admin connection renders a slice per loop turn (`step`) and drops the
/// whole thing if its client goes away.
final class StatsDocument: SlicedBody {
    private var writer: JSONWriter?
    private let snapshot: StatsSnapshot
    private let order: [Int]
    private var next = 0
    /// Upstreams rendered between two looks at the clock: ~1.4 KB and ~5 µs each, so a look every ~40 µs.
    private static let upstreamsPerClockCheck = 8

    /// Writes the head and totals at once (they are small); the upstreams at positions `order` follow in `step`s.
    init(_ s: StatsSnapshot, order: [Int], matched: Int, uptime: Double, profile: String, workers: Int) {
        snapshot = s
        self.order = order
        var w = JSONWriter(capacity: 2048 + order.count * 1500)
        StatsRenderer.head(&w, s, matched: matched, uptime: uptime, profile: profile, workers: workers)
        writer = consume w
    }

    /// Whether every upstream has been written.
    var isComplete: Bool { next == order.count }

    /// Renders upstreams until all are written (true) or the clock passes `deadline` (false: call again later).
    func step(until deadline: Nanos) -> Bool {
        guard var w = writer.take() else { return true }
        var at = next
        let order = self.order
        snapshot.pools.withUnsafeBufferPointer { pools in
            while at < order.count {
                let end = min(order.count, at + StatsDocument.upstreamsPerClockCheck)
                while at < end {
                    StatsRenderer.upstream(&w, pools[order[at]], snapshot)
                    at += 1
                }
                if at < order.count && MonotonicClock.now() >= deadline { return }
            }
        }
        next = at
        writer = consume w
        return next == order.count
    }

    /// The finished document; only once `step` has returned true.
    func finish() -> OwnedBytes {
        precondition(isComplete, "the document is finished only once every upstream is written")
        var w = writer.take()!
        StatsRenderer.tail(&w)
        return w.finishOwned()
    }
}
