// The entries that may give way under --max-upstreams, least recently used first: sorted once, taken as room is needed.

/// The least recently used entries found by one scan of the table (`PoolManager.forgetLeastRecentlyUsed`), taken from
/// the front one at a time as new upstreams need room: one scan and sort serves a batch of new upstreams, while each
/// takes only the room it needs (an entry holding idle connections loses them when it goes). An entry used since the
/// scan (it is no longer among the least recent) or forgotten meanwhile is passed over.
struct EvictionQueue {
    private var entries: [(pool: Upstream, lastActivity: Nanos)] = []
    private var next = 0
    /// Whether the scan found only entries holding idle connections (none empty), whose connections close as they go.
    private(set) var closesIdle = false

    /// Takes `sorted` (least recently used first) as the queue.
    mutating func fill(_ sorted: ArraySlice<Upstream>, closesIdle: Bool) {
        entries = sorted.map { ($0, $0.lastActivity) }
        next = 0
        self.closesIdle = closesIdle
    }

    /// The next entry as it was at the scan (not used since, not forgotten); nil, the queue emptied, when none is left.
    mutating func take() -> Upstream? {
        while next < entries.count {
            let e = entries[next]
            next += 1
            if !e.pool.forgotten && e.pool.lastActivity == e.lastActivity { return e.pool }
        }
        entries.removeAll()
        next = 0
        return nil
    }
}
