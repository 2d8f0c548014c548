// What a session holds on the upstream side, each case with its resource, so every resource is given back once.
import EventLoop

/// The upstream half of a session. Resources live in the case that needs them: a connect slot while connecting, the
/// lease while relaying, the tunnel and its lease (its pool slot, held for the tunnel's whole life) in a tunnel.
/// Taking the link out (`take`) is the only way to give one back, so closing a session after an error was answered
/// finds nothing left to return twice.
enum UpstreamLink: ~Copyable {
    /// Nothing upstream (routing, queued in the pool, answered by berth).
    case none
    /// A pooled connection is being opened into this slot.
    case connecting(ConnectTicket)
    /// A CONNECT target is being opened into this slot of its pool: tunnels count against the limits like requests.
    case tunnelConnecting(ConnectTicket)
    /// The request and response flow over this busy connection.
    case relaying(UpstreamLease)
    /// Bytes flow both ways untouched (CONNECT, or an Upgrade after 101); the tunnel owns the peer socket, and the
    /// lease keeps its connection counted (busy) in its pool until the tunnel ends and the lease goes back.
    case tunnel(Tunnel, UpstreamLease)

    /// Hands the link over and leaves `.none` behind.
    mutating func take() -> UpstreamLink {
        let old = consume self
        self = .none
        return old
    }

    /// The lease, when relaying; any other link stays where it is.
    mutating func takeLease() -> UpstreamLease? {
        switch take() {
        case .relaying(let lease):
            return lease
        case .none:
            return nil
        case .connecting(let ticket):
            self = .connecting(ticket)
            return nil
        case .tunnelConnecting(let ticket):
            self = .tunnelConnecting(ticket)
            return nil
        case .tunnel(let t, let lease):
            self = .tunnel(t, lease)
            return nil
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

    /// Whether the link relays over `conn`: an identity check that takes no reference.
    func isRelaying(over conn: UpstreamConnection) -> Bool {
        switch self {
        case .relaying(let lease): return lease.conn === conn
        default: return false
        }
    }

    /// Whether the link holds a pool's connect slot (a pooled connection, or a CONNECT target, is being opened).
    var holdsConnectSlot: Bool {
        switch self {
        case .connecting: return true
        case .tunnelConnecting: return true
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
