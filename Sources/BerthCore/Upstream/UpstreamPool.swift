// The shell around one upstream's PoolState: its idle connections, its waiting requests, settings and counters.

/// What a request waiting for a connection hears from its pool.
protocol PoolWaiter: AnyObject {
    /// Unique per worker, used as the queue entry.
    var waiterID: Int { get }
    /// An idle connection was handed over.
    func poolGranted(_ connection: UpstreamConnection)
    /// A slot was reserved: open a new connection.
    func poolMayConnect()
    /// The request cannot be served by this pool.
    func poolRejected(_ cause: ErrorCause)
}

/// Limits and timeouts in force for one upstream (global values with per-destination overrides applied).
struct RouteSettings: Sendable, Equatable {
    var maxPerRoute: Int
    var maxPending: Int
    var socketTimeout: Nanos
    var connectTimeout: Nanos
    var acquireTimeout: Nanos
}

/// One upstream's pool.
final class UpstreamPool {
    let key: PoolKey
    /// The manager outlives every pool it creates.
    unowned(unsafe) var manager: PoolManager?
    var state: PoolState
    var settings: RouteSettings
    var counters = UpstreamCounters()
    /// Idle connections by id.
    var idle: [Int: UpstreamConnection] = [:]
    /// Requests in the queue by waiter id.
    var waiters: [Int: PoolWaiter] = [:]
    /// Last time anything happened here, for forgetting empty entries.
    var lastActivity: Nanos
    /// How long held requests wait while paused (from /pause hold=); nil means the acquire timeout.
    var holdTimeout: Nanos?
    /// /evict?forget=true arrived while connections were open: drop the entry when the last one closes.
    var forgetWhenEmpty = false
    /// Dropped from the manager's table; sessions that cached it must look up the upstream again.
    var forgotten = false
    /// /pause?drain= callers waiting for busy connections to finish.
    var drainWaiters: [() -> Void] = []

    init(key: PoolKey, settings: RouteSettings, now: Nanos) {
        self.key = key
        self.settings = settings
        self.state = PoolState(maxPerRoute: settings.maxPerRoute, maxPending: settings.maxPending)
        self.lastActivity = now
    }

    /// Exchanges in flight: busy connections and those being opened for a request. Busy connections belong to their
    /// sessions, so the pool only counts them.
    var inFlight: Int { state.busy + state.connecting }
}
