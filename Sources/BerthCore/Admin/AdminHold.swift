// How long admin work holds a worker's loop: wall and thread CPU time around each admin-driven callback.
import EventLoop

/// Every callback that admin work runs on a loop (an admin connection's events and timers, the jobs and replies
/// `AdminServer.gather` posts, each slice of a snapshot or merge) goes through `holdingForAdmin`, so the proxied
/// requests on the same loop can be told how long they may have waited behind it (`WorkerStat.adminLoopHold`). Only
/// admin paths call it: the data path pays nothing.
extension Worker {
    /// Runs `body` and records, once per outermost call, how long it held this worker's loop: wall time and this
    /// thread's CPU time. Nested calls (a request whose snapshot begins at once on the same loop) are part of the
    /// outer hold. Call on this worker's thread.
    func holdingForAdmin<T>(_ body: () throws -> T) rethrows -> T {
        guard adminHoldDepth == 0 else { return try body() }
        adminHoldDepth = 1
        let wall = MonotonicClock.now()
        let cpu = ThreadCPUClock.now()
        defer {
            counters.observe(.adminLoopHold, MonotonicClock.now() - wall)
            counters.observe(.adminLoopCPU, ThreadCPUClock.now() - cpu)
            adminHoldDepth = 0
        }
        return try body()
    }
}

/// Carries a large value (a snapshot of 10,000 pools) into a later admin callback, which takes it out: it is then
/// freed inside that callback's measured hold, not after it, when the loop lets go of the closure that captured it.
final class HandedOver<T> {
    private var value: T?

    /// A box holding `value` until `take`.
    init(_ value: T) { self.value = value }

    /// The value; once.
    func take() -> T {
        precondition(value != nil, "a handed-over value is taken once")
        return value.take()!
    }
}
