// The freezer watch's state in /stats and /metrics: who holds an upstream paused, and its watched cgroup.

/// What /stats and /metrics show of an upstream's freezer watch and of who holds it paused. These are state, not
/// counts (the pause and resume counts are rows of the statistics table, StatTable.swift), so they are written here
/// by hand, as the pause mode and the epoch are.
enum FreezerStats {
    /// /stats, per upstream, beside `state`: `paused_by` while paused.
    static func state(_ w: inout JSONWriter, _ p: borrowing PoolSnapshot) {
        if let by = p.holds.heldBy { w.field("paused_by", by) }
    }

    /// /stats, per upstream after its counters: `freezer`, while watched.
    static func upstream(_ w: inout JSONWriter, _ p: borrowing PoolSnapshot) {
        guard let watch = p.watch else { return }
        w.beginObject("freezer")
        w.field("cgroup", watch.cgroup)
        w.field("cgroup_version", watch.version.rawValue)
        w.field("frozen", watch.frozen)
        w.field("source", watch.source.rawValue)
        w.endObject()
    }

    /// /metrics: whether each listed upstream is watched and frozen; the totals count the watched and the frozen.
    static func metrics(_ out: inout ExpositionWriter, _ pools: UnsafeBufferPointer<PoolSnapshot>, _ full: [Int], _ labels: [[UInt8]]) {
        var watched = 0, frozen = 0
        for i in pools.indices {
            guard let w = pools[i].watch else { continue }
            watched += 1
            if w.frozen { frozen += 1 }
        }
        out.family("berth_upstream_freezer_watched", "gauge", "1 while berth watches the upstream's cgroup freezer; the total counts watched upstreams.")
        out.sample("berth_upstream_freezer_watched", [], watched)
        for (n, i) in full.enumerated() { out.sample("berth_upstream_freezer_watched", labels[n], pools[i].watch == nil ? 0 : 1) }
        out.family("berth_upstream_freezer_frozen", "gauge", "1 while the upstream's watched cgroup is frozen; the total counts frozen ones.")
        out.sample("berth_upstream_freezer_frozen", [], frozen)
        for (n, i) in full.enumerated() { out.sample("berth_upstream_freezer_frozen", labels[n], pools[i].watch?.frozen == true ? 1 : 0) }
    }
}
