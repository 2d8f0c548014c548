// Merges the workers' /stats snapshots on the admin's loop a slice at a time, as SnapshotTaker takes them.
import EventLoop

/// Combines the same upstream's shares from every worker, at most `SnapshotTaker.sliceTime` per loop turn: at
/// 10,000 upstreams and two workers, the merge in one go filled a dictionary with 20,000 full snapshots on the
/// admin's loop. With one worker there is nothing to merge and `done` runs at once.
final class SnapshotMerger {
    private let parts: [StatsSnapshot]
    /// Taken out for each slice, as in SnapshotTaker.
    private var result: StatsSnapshot?
    /// Where each upstream sits in the result.
    private var at: [PoolKey: Int] = [:]
    private var part = 0
    private var item = 0
    /// Full snapshots are listed (the whole document, or one upstream); else summaries (a page to pick).
    private let full: Bool
    private let base: EventBase
    /// Runs each later slice: `Worker.holdingForAdmin`, so the admin's hold of the loop is measured.
    private let around: (() -> Void) -> Void
    private let done: (StatsSnapshot) -> Void

    /// A merge of `parts` (one per worker) whose slices run on `base`'s loop, each later one inside `around`; `done`
    /// gets the result.
    init(_ parts: [StatsSnapshot], base: EventBase, around: @escaping (() -> Void) -> Void = { $0() },
         done: @escaping (StatsSnapshot) -> Void) {
        self.parts = parts
        full = parts.contains { !$0.pools.isEmpty }
        self.base = base
        self.around = around
        self.done = done
    }

    /// Merges until done or the slice's time is up; the rest follows on later loop turns.
    func start() {
        if parts.count == 1 { return done(parts[0]) }
        let deadline = MonotonicClock.now() + SnapshotTaker.sliceTime
        var r = result.take() ?? StatsSnapshot.mergedHeader(parts)
        var n = 0
        while part < parts.count {
            let count = full ? parts[part].pools.count : parts[part].summaries.count
            while item < count {
                if full {
                    parts[part].pools.withUnsafeBufferPointer { p in
                        if let i = at[p[item].key] { r.pools[i].merge(p[item]) } else { at[p[item].key] = r.pools.count; r.pools.append(p[item]) }
                    }
                } else {
                    let s = parts[part].summaries[item]
                    if let i = at[s.key] { r.summaries[i].merge(s) } else { at[s.key] = r.summaries.count; r.summaries.append(s) }
                }
                item += 1
                n += 1
                if n % 32 == 0 && MonotonicClock.now() >= deadline {
                    result = r
                    // The timer holds the merge until its next slice.
                    OneShotTimer(base: base) { self.around { self.start() } }.start(after: 0)
                    return
                }
            }
            part += 1
            item = 0
        }
        if full { r.summaries = r.pools.map { PoolSummary($0) } }
        done(r)
    }
}
