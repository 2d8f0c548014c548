// The pure rules of a dead peer: whether the peer's kernel acknowledged the request, and what berth does then.
import EventLoop

/// What the kernel says of the request written to a reused connection.
enum RequestAcknowledgement: Equatable {
    /// The peer's kernel acknowledged the whole head: the server may have read it, so today's rules hold.
    case acknowledged
    /// Not one byte of it was acknowledged: the server cannot have read any, the peer is dead or gone.
    case unacknowledged
    /// Part of the head was acknowledged, not all: the server cannot have a whole head, so it cannot have acted on
    /// the request. `stalled`: not one byte more since the previous look, a dead-peer timeout ago (it is taken for
    /// dead); otherwise it is still taking the head, and is looked at again. (A live peer's kernel cannot be told
    /// from a dead one's sooner: with its window full it may leave berth's probes unanswered for 500 ms,
    /// `tcp_invalid_ratelimit`.)
    case headPartly(stalled: Bool)
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

    /// How much of the request the peer acknowledged. On a reused connection every byte sent before the request was
    /// acknowledged (the previous response's segments carried the ACK), so the request's bytes are those past
    /// `sentBefore`, its head the first `headBytes` of them. One byte of it acknowledged once counted as the whole:
    /// a 40 KB head taken up to a small receive window by a peer that then vanished was a 504 after the socket
    /// timeouts instead of a retry, though no server can act on half a head.
    /// `lastLook` is what the previous look found acknowledged (0 before the first), `headLeftAtLastLook` whether
    /// the head's end had certainly left berth's host by then; `handed` the bytes handed to the kernel so far.
    /// No byte more since the previous look is a dead peer only where the server certainly lacks the head's end:
    /// that end has not left berth's host yet, or it had by the previous look, a whole dead-peer timeout ago, and is
    /// still unacknowledged (the rule for a request none of which was acknowledged). An end sent since the previous
    /// look may have reached a live server that acts on it while its ACK waits (a delayed ACK takes up to 200 ms):
    /// taken for dead, its POST went again on a fresh connection (review11).
    static func judge(_ view: TCPAckView?, sentBefore: UInt64, headBytes: UInt64, handed: UInt64, lastLook: UInt64,
                      headLeftAtLastLook: Bool) -> RequestAcknowledgement {
        guard let view else { return .unknown }
        if view.bytesAcked <= sentBefore { return .unacknowledged }
        if view.bytesAcked >= sentBefore &+ headBytes { return .acknowledged }
        let certainlyLacking = headLeftAtLastLook || !headLeft(view, sentBefore: sentBefore, headBytes: headBytes, handed: handed)
        return .headPartly(stalled: view.bytesAcked == lastLook && certainlyLacking)
    }

    /// Whether the head's end has left berth's host: the bytes handed to the kernel (`handed`, over the connection's
    /// life) less those it has not sent yet reach it. A peer whose window is full holds the rest of the head in
    /// berth's kernel. On a TLS channel `headBytes` is the plaintext, shorter than the records it went out in, so a
    /// false here is certain there too, a true is not (the session never keeps it as certain for TLS).
    static func headLeft(_ view: TCPAckView, sentBefore: UInt64, headBytes: UInt64, handed: UInt64) -> Bool {
        let notSent = UInt64(view.notSentBytes)
        let sent = handed > notSent ? handed - notSent : 0
        return sent >= sentBefore &+ headBytes
    }

    /// Whether a reused connection's end shows the server closed before any of the request reached it: an orderly
    /// close (`clean`: a FIN, no failed write) after which the peer had acknowledged none of it. A FIN acknowledges
    /// everything its sender's kernel had received, so the server's keep-alive timer fired as the request crossed
    /// its FIN, and the server cannot have read the request (its kernel reset it). A reset proves nothing: its
    /// acknowledgement is not taken, and a server that read the head can reset over a body it left unread.
    /// The FIN alone is not enough (review13): an origin that only half-closes at its keep-alive timer
    /// (shutdown(SHUT_WR)) and reads on takes the request after its FIN, acknowledging it a delayed ACK later, and a
    /// resend was the same POST twice. So the connection must also be gone (`peerClosed`: the peer's kernel reset the
    /// request, its socket closed); one whose reset has not come yet is failed as before (502 upstream-reset).
    static func closedBeforeRequest(_ view: TCPAckView?, sentBefore: UInt64, clean: Bool) -> Bool {
        guard clean, let view, view.peerClosed else { return false }
        return view.bytesAcked <= sentBefore
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
