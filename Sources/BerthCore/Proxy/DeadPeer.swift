// The pure rules of a dead peer: whether the peer's kernel acknowledged the request, and what berth does then.
import EventLoop

/// What the kernel says of the request written to a reused connection.
enum RequestAcknowledgement: Equatable {
    /// The peer's kernel acknowledged some of it: the server may have read it, so today's rules hold.
    case acknowledged
    /// Not one byte of it was acknowledged: the server cannot have read any, the peer is dead or gone.
    case unacknowledged
    /// No TCP view (a Unix socket): nothing is known, so today's rules hold.
    case unknown
}

/// What berth does with a connection found dead.
enum DeadPeerAction: Equatable {
    /// Send the request again on a fresh connection.
    case retry
    /// Answer 502 dead-peer: the request cannot go again (why, for the detail).
    case fail(DeadPeerRefusal)
}

/// Why a request a dead peer never acknowledged is not sent again.
enum DeadPeerRefusal: String, Equatable {
    case retryOff = "dead-peer-retry is off"
    case alreadyRetried = "the request was already a second attempt"
    case bodyNotKept = "its body outgrew the replay buffer, so it cannot be sent again"
}

/// The dead-peer decisions, pure: the session reads the kernel and carries them out.
enum DeadPeer {
    /// The soonest a look made at the socket timeout may come: Linux's longest delayed ACK (TCP_DELACK_MAX, 200 ms)
    /// and a margin for the ACK's way back, as the default dead-peer timeout has. Sooner, a live peer's kernel may
    /// not have acknowledged a request its application already read, and sending it again could run it twice.
    static let soonestLook: Nanos = 250_000_000

    /// Whether the peer acknowledged any byte of the request. On a reused connection every byte sent before the
    /// request was acknowledged (the previous response's segments carried the ACK), so the request's bytes are those
    /// past `sentBefore`, and the peer acknowledged some of them exactly when `bytesAcked` passed it.
    static func judge(_ view: TCPAckView?, sentBefore: UInt64) -> RequestAcknowledgement {
        guard let view else { return .unknown }
        return view.bytesAcked > sentBefore ? .acknowledged : .unacknowledged
    }

    /// What to do with a request the dead peer never acknowledged: it goes again whatever its method (the server
    /// never read it), once, if every body byte already sent is in the replay copy (or none was sent).
    static func action(retryEnabled: Bool, retried: Bool, bodyBytesSent: UInt64, replayHeld: Int?) -> DeadPeerAction {
        guard retryEnabled else { return .fail(.retryOff) }
        guard !retried else { return .fail(.alreadyRetried) }
        if bodyBytesSent == 0 { return .retry }
        guard let held = replayHeld, UInt64(held) == bodyBytesSent else { return .fail(.bodyNotKept) }
        return .retry
    }
}
