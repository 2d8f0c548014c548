// The bounded pool of replay buffers: each holds one request body for `replay: unread`, and the pool has a cap.
import EventLoop

/// One request body kept for a replay, at most `ReplayStore.limit` bytes.
final class ReplayBuffer {
    let bytes = ByteQueue()
    /// Bytes held.
    var count: Int { bytes.count }
}

/// A worker's replay buffers. `limit` bounds one body (--replay-buffer), `capacity` the buffers in use at once (its
/// share of --replay-memory), so a stream of large POSTs never holds more than capacity x limit bytes. Buffers are
/// reused, so a steady stream of replayable requests allocates nothing.
final class ReplayStore {
    private(set) var limit: Int
    private(set) var capacity: Int
    private var free: [ReplayBuffer] = []
    /// Buffers handed out and not yet given back.
    private(set) var inUse = 0

    /// A store for bodies up to `limit` bytes, `capacity` at a time.
    init(limit: Int, capacity: Int) {
        self.limit = limit
        self.capacity = capacity
    }

    /// New bounds (a reload): copies already held keep what they hold (one growing past a smaller `limit` is
    /// dropped at its next byte, as any body too large is), and no buffer is handed out while `capacity` are in use.
    func resize(limit: Int, capacity: Int) {
        self.limit = limit
        self.capacity = capacity
        if free.count > capacity { free.removeLast(free.count - capacity) }
    }

    /// This worker's share of the buffers `settings` allow (at least one).
    static func capacity(_ settings: ProxySettings, worker index: Int, of count: Int) -> Int {
        max(1, workerShare(settings.replayBuffers, index: index, count: count))
    }

    /// An empty buffer, or nil when `capacity` are in use.
    func take() -> ReplayBuffer? {
        guard inUse < capacity else { return nil }
        inUse += 1
        return free.popLast() ?? ReplayBuffer()
    }

    /// Takes a buffer back, emptied.
    func giveBack(_ b: ReplayBuffer) {
        precondition(inUse > 0, "a replay buffer was given back that was never taken")
        b.bytes.clear()
        inUse -= 1
        free.append(b)
    }
}
