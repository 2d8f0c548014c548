// One upstream as berth knows it besides its connections: key, settings, counters and admin-side waits (the connections are in the ledger).
import EventLoop

/// The ledger as the worker uses it.
typealias UpstreamLedger = PoolLedger<UpstreamConnection, ProxySession>
/// A busy upstream connection, held by the exchange it serves.
typealias UpstreamLease = UpstreamLedger.Lease

/// What a request waiting for a connection hears from its pool, on a loop turn of its own (HandOffs), never inside
/// the call that freed what it is given. Each call hands over something that must be given back exactly once (a lease
/// or a connect slot), or says why nothing will come.
protocol PoolWaiter: AnyObject {
    /// An idle connection was handed over.
    func poolGranted(_ lease: consuming UpstreamLease)
    /// A slot was reserved: open a new connection.
    func poolMayConnect(_ ticket: consuming ConnectTicket)
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
    /// Which failed requests go out again (`replay`).
    var replay: ReplayPolicy
    /// The Unix socket this upstream's connections go to instead of its host and port (a destination's `unix:`).
    var unixPath: String? = nil
    /// The TLS handshake after the connect, for TLS pools.
    var handshakeTimeout: Nanos
}

/// One upstream: what the ledger does not hold. Its pool of connections, counts and pause live in the ledger (`state`).
final class Upstream {
    let key: PoolKey
    /// Its place in the manager's PoolLedger.
    let slot: PoolSlot
    /// Unowned but checked: connections, sessions and prewarms hold pools strongly, so a pool may outlive its manager
    /// at teardown; no per-request path reads this (idle events, admin and stats do), so the check costs nothing there.
    unowned let manager: PoolManager
    var settings: RouteSettings
    var counters = UpstreamCounters()
    /// Its last whole answer to an HTTP/1.1 request was HTTP/1.0, so its server is not known to take chunked framing
    /// (RFC 9112 6.1): a chunked request is answered 411 instead of sent, where the server would read the chunks as
    /// its next request. Any HTTP/1.1 answer clears it, and so does a new generation at the address.
    var answersHTTP10 = false
    /// Last time anything happened here, for forgetting empty entries.
    var lastActivity: Nanos
    /// /evict?forget=true arrived while connections were open: drop the entry when the last one closes.
    var forgetWhenEmpty = false
    /// That mark came from a reload that stopped routing here (`retireSupersededTLSPools`): a later reload that
    /// routes here again takes it back.
    var retired = false
    /// Dropped from the manager's table; sessions that cached it must look up the upstream again.
    var forgotten = false
    /// /pause?drain= callers waiting for busy connections to finish (`PoolManager.awaitDrain`).
    var drainWaiters: [DrainWaiter] = []
    /// The generations requests named for its address (`Berth-Generation`); the epoch stands for the current one.
    var generations = Generations()
    /// What its connections' handshakes need, for a TLS pool (`key.tls` set).
    var tls: TLSUpstream?

    init(key: PoolKey, slot: PoolSlot, manager: PoolManager, settings: RouteSettings, now: Nanos) {
        self.key = key
        self.slot = slot
        self.manager = manager
        self.settings = settings
        self.lastActivity = now
    }

    /// This pool's counts, mode and epoch, as the ledger holds them. A forgotten pool's slot may already belong to
    /// another upstream: it reads as empty.
    var state: UpstreamLedger.Pool {
        forgotten ? UpstreamLedger.Pool(maxPerRoute: settings.maxPerRoute, maxPending: settings.maxPending) : manager.ledger[slot]
    }

    /// Who holds it paused (the API, the freezer watch), how, and its pause counts, as the ledger holds them.
    var holds: PauseHolds { state.holds }

    /// How long held requests wait while paused (from /pause hold=); nil means the acquire timeout.
    var holdTimeout: Nanos? { holds.holdTimeout }

    /// Exchanges in flight: busy connections and those being opened for a request.
    var inFlight: Int {
        forgotten ? 0 : manager.ledger.inFlight(slot)
    }
}
