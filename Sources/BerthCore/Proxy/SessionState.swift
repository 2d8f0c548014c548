// Where a proxy session is, as one value whose cases hold the resources of that phase, so each is given back once.
import EventLoop

/// The one state of a caller session. Every resource lives in the case that needs it: the pool whose queue holds the
/// session while it waits, a connect slot while connecting, the lease while relaying, the tunnel and its lease (the
/// pool slot, held for the tunnel's whole life) in a tunnel. Only `SessionMachine` moves it; the resources come out
/// only by moving it on (`takeTicket`, `takeLease`, `endTunnel`, `close`), so a session closed after an error answer
/// finds nothing left to give back twice.
enum SessionState: ~Copyable {
    /// Between requests, no byte of the next head yet: the caller's idle timeout runs.
    case idle
    /// The first bytes of a head arrived at `since`: the header timeout runs from then, however slowly the rest
    /// dribbles in (slowloris).
    case readingHead(since: Nanos)
    /// A whole head arrived; berth is choosing its upstream, or going back to the pool for a retry (nothing held).
    case routing
    /// In `pool`'s queue since `since`: the pool hands over a connection or a slot later, and a close takes the
    /// session out of the queue.
    case queued(since: Nanos, pool: Upstream)
    /// A pooled connection is being opened into this slot (the Connector holds the connect timeout).
    case connecting(ConnectTicket)
    /// A CONNECT target is being opened into this slot of its pool: tunnels count against the limits like requests.
    case tunnelConnecting(ConnectTicket)
    /// The request and response flow over this busy connection (the upstream's socket timeout runs on its channel).
    case relaying(UpstreamLease)
    /// Bytes flow both ways untouched (CONNECT, or an Upgrade after 101); the tunnel owns the peer socket, and the
    /// lease keeps its connection counted (busy) in its pool until the tunnel ends.
    case tunnel(Tunnel, UpstreamLease)
    /// The exchange holds nothing upstream any more (its response ended, its upstream failed and berth answers it
    /// itself, or its tunnel ended): the caller's side settles next, the next request or the close.
    case ending
    /// Writing the last bytes before closing.
    case closing
    /// Everything is closed or given back.
    case closed

    /// The phase without its resources: what the rules (timers, legal transitions) and the tests look at.
    @inline(__always)
    var phase: SessionPhase {
        switch self {
        case .idle: return .idle
        case .readingHead(let since): return .readingHead(since: since)
        case .routing: return .routing
        case .queued(let since, _): return .acquiring(since: since)
        case .connecting: return .connecting
        case .tunnelConnecting: return .connecting
        case .relaying: return .exchanging
        case .tunnel: return .tunnel
        case .ending: return .ending
        case .closing: return .closing
        case .closed: return .closed
        }
    }

    /// The connection being relayed over, if any.
    var connection: UpstreamConnection? {
        switch self {
        case .relaying(let lease): return lease.conn
        default: return nil
        }
    }

    /// Runs `body` with the relayed connection's channel, borrowed from the lease rather than copied out of it (a copy
    /// costs a retain and a release on each of the connection and the channel, per relay turn); nil when not relaying.
    @inline(__always)
    func withRelayedChannel<R>(_ body: (Channel) -> R) -> R? {
        switch self {
        case .relaying(let lease): return body(lease.conn.channel)
        default: return nil
        }
    }

    /// Whether the session relays over `conn`: an identity check that takes no reference.
    func isRelaying(over conn: UpstreamConnection) -> Bool {
        switch self {
        case .relaying(let lease): return lease.conn === conn
        default: return false
        }
    }

    /// Whether `channel` is the relayed connection's: an identity check that takes no reference, so the event that
    /// asked holds no retain on the connection across its handler.
    @inline(__always)
    func relays(over channel: Channel) -> Bool {
        switch self {
        case .relaying(let lease): return lease.conn.channel === channel
        default: return false
        }
    }

    /// Whether the session holds a pool's connect slot (a pooled connection, or a CONNECT target, is being opened).
    var holdsConnectSlot: Bool {
        switch self {
        case .connecting: return true
        case .tunnelConnecting: return true
        default: return false
        }
    }

    /// Whether the session holds a lease for a relay (checked without taking a reference).
    var holdsLease: Bool {
        switch self {
        case .relaying: return true
        default: return false
        }
    }

    /// The tunnel, if in one.
    var tunnel: Tunnel? {
        switch self {
        case .tunnel(let t, _): return t
        default: return nil
        }
    }
}

/// A session's phase without its resources; copyable and comparable, for the rules and the tests.
enum SessionPhase: Equatable {
    case idle
    case readingHead(since: Nanos)
    case routing
    /// Queued in the pool since `since`.
    case acquiring(since: Nanos)
    case connecting
    case exchanging
    case tunnel
    case ending
    case closing
    case closed
}
