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
    let limit: Int
    let capacity: Int
    private var free: [ReplayBuffer] = []
    /// Buffers handed out and not yet given back.
    private(set) var inUse = 0

    /// A store for bodies up to `limit` bytes, `capacity` at a time.
    init(limit: Int, capacity: Int) {
        self.limit = limit
        self.capacity = capacity
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
