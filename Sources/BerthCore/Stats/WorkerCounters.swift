// Counters for things that happen on the caller side of a worker, before or beside any upstream pool.

/// Caller-side counters of one worker.
struct WorkerCounters: Sendable {
    var accepted: UInt64 = 0
    var requests: UInt64 = 0
    var badRequests: UInt64 = 0
    var headerTimeouts: UInt64 = 0
    var tunnels: UInt64 = 0
    /// Responses followed by bytes their framing did not account for.
    var upstreamExtraBytes: UInt64 = 0
    /// Indexed by `ErrorCause.index`; counts every cause, including those with no pool (denied, bad request).
    private(set) var failures = ErrorCause.Counts(repeating: 0)

    init() {}

    mutating func countFailure(_ cause: ErrorCause) { failures[cause.index] &+= 1 }
    func failureCount(_ cause: ErrorCause) -> UInt64 { failures[cause.index] }

    /// Adds another worker's counters.
    mutating func merge(_ o: WorkerCounters) {
        accepted &+= o.accepted
        requests &+= o.requests
        badRequests &+= o.badRequests
        headerTimeouts &+= o.headerTimeouts
        tunnels &+= o.tunnels
        upstreamExtraBytes &+= o.upstreamExtraBytes
        for i in failures.indices { failures[i] &+= o.failures[i] }
    }
}
