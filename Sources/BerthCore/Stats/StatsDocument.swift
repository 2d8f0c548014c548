// A /stats document rendered a slice of upstreams at a time, so that 10,000 of them never hold a loop for long.
import EventLoop

/// One /stats answer being written. The snapshot is a value taken once, so the slices make one consistent document
/// whatever the pools do between them; the admin connection renders a slice per loop turn (`step`) and drops the
/// whole thing if its client goes away.
final class StatsDocument: SlicedBody {
    private var writer: JSONWriter?
    /// Dropped by `finish`, so that its pools (~10 MB at 10,000 upstreams) are freed inside the measured admin
    /// hold, not after it when the last slice's timer lets go of the document.
    private var snapshot: StatsSnapshot?
    private let order: [Int]
    private var next = 0
    /// Upstreams rendered between two looks at the clock: ~1.7 KB and ~5 µs each, so a look every ~40 µs.
    private static let upstreamsPerClockCheck = 8
    /// Room reserved per upstream, above the ~1.7 KB one takes: a buffer that outgrows its room is copied whole in
    /// one slice (at 10,000 upstreams a 1.5 KB estimate made one slice copy 15 MB, 6.6 ms on the loop). Untouched
    /// room costs nothing: a large buffer is an mmap of its own.
    private static let roomPerUpstream = 2560

    /// Writes the head and totals at once (they are small); the upstreams at positions `order` follow in `step`s.
    init(_ s: StatsSnapshot, order: [Int], matched: Int, uptime: Double, profile: String, workers: Int) {
        snapshot = s
        self.order = order
        var w = JSONWriter(capacity: 4096 + order.count * StatsDocument.roomPerUpstream)
        StatsRenderer.head(&w, s, matched: matched, uptime: uptime, profile: profile, workers: workers)
        writer = consume w
    }

    /// Whether every upstream has been written.
    var isComplete: Bool { next == order.count }

    /// Renders upstreams until all are written (true) or the clock passes `deadline` (false: call again later).
    func step(until deadline: Nanos) -> Bool {
        guard var w = writer.take(), let snapshot else { return true }
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
        snapshot = nil
        StatsRenderer.tail(&w)
        return w.finishOwned()
    }
}
