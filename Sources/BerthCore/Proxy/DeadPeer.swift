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

/// What a clean end that acknowledged none of the request says (`DeadPeer.crossedClose`).
enum CrossedClose: Equatable {
    /// The peer's kernel reset the request: its socket was closed, nothing read. The request may go again.
    case reset
    /// A FIN only, so far: the reset of a request the server never read may still be on its way (a round trip
    /// behind the FIN off loopback), or the server half-closed and reads on. Wait for the reset, then decide.
    case awaitReset
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

    /// What a reused connection's orderly end (`clean`: a FIN, no failed write) says of the request it crossed, or
    /// nil when it says nothing (not clean, no TCP view, or the peer acknowledged some of the request: the server
    /// may have read it). A FIN acknowledges everything its sender's kernel had received, so one that acknowledged
    /// none of the request came from a server whose keep-alive timer fired as the request crossed it. That alone is
    /// not enough (review13): an origin that only half-closes (shutdown(SHUT_WR)) and reads on takes the request
    /// after its FIN and acknowledges it a delayed ACK later. Only a connection gone (`peerClosed`: the peer's kernel
    /// reset the request, so its socket was closed and read nothing) proves it. Off loopback that reset comes a round
    /// trip after the request, behind the FIN (linger2): `.awaitReset` then, and `resetWait` says how long.
    static func crossedClose(_ view: TCPAckView?, sentBefore: UInt64, clean: Bool) -> CrossedClose? {
        guard clean, let view, view.bytesAcked <= sentBefore else { return nil }
        return view.peerClosed ? .reset : .awaitReset
    }

    /// The shortest wait for a crossed request's reset: loopback's reset is in at once, but a loop turn and a timer
    /// may come between.
    static let resetWaitFloor: Nanos = 2_000_000
    /// The longest: a cross-region round trip (~100-150 ms) and its variation fit; a reset slower than that is
    /// taken for none (a 502, as before), and no request waits longer than this on a closed connection.
    static let resetWaitCap: Nanos = 200_000_000

    /// How long after the request's send its reset may still come, if the server closed before reading it: the
    /// reset answers the request's first segment as an ACK would, so TCP's own bound on that answer applies, the
    /// smoothed round trip and four times its variation (RFC 6298's retransmission timeout, without Linux's 200 ms
    /// floor). Between `resetWaitFloor` and `resetWaitCap`, and never past the dead-peer timeout.
    static func resetWait(_ view: TCPAckView, deadPeerTimeout: Nanos) -> Nanos {
        min(max(roundTrip(view), resetWaitFloor), resetWaitCap, max(deadPeerTimeout, resetWaitFloor))
    }

    /// TCP's own bound on the answer to a segment: the smoothed round trip and four times its variation (RFC 6298's
    /// retransmission timeout, without Linux's 200 ms floor).
    static func roundTrip(_ view: TCPAckView) -> Nanos {
        (Nanos(view.rttMicros) + 4 * Nanos(view.rttVarMicros)) * 1_000
    }

    /// When, after the send, a look may first take unacknowledged bytes for a dead peer: the peer's delayed ACK (up
    /// to 200 ms: `soonestLook`), then the ACK's way back, a round trip (`roundTrip`). Without the round trip a live
    /// origin more than ~50 ms away (its delayed ACK and the way back past 250 ms) had read the request before its
    /// ACK could be back, and the request went again on a fresh connection, a POST too (adv1). Never sooner for a
    /// shorter `dead-peer-timeout` (its early look comes again then): a 1 ms one judged a live loopback server
    /// whose ACK waited for its answer 5 ms later dead, and every POST on a reused connection ran twice (rev18).
    static func judgeableAfter(_ view: TCPAckView) -> Nanos {
        soonestLook + roundTrip(view)
    }

    /// The peer's delayed ACK of a copy berth's kernel sent again, where that copy was the first to reach it: Linux
    /// bounds a delayed ACK by its round trip once it has one, and by `TCP_DELACK_MIN` (40 ms) below that; a margin.
    static let retransmitAllowance: Nanos = 50_000_000
    /// How much later than the request's send a data segment must have left to be another one (a copy, or more of
    /// the request): `tcpi_last_data_sent` counts in jiffies (10 ms at HZ=100).
    static let sentAgainSlack: Nanos = 10_000_000

    /// When a look may first judge the request written at `sentAt` (the time now is `now`): `judgeableAfter`, and,
    /// while request bytes are in flight, a segment berth's kernel sent after them and the answer it brings. An ACK
    /// lost on its way back leaves a request the live server read unacknowledged until berth's kernel sends it again
    /// (its tail loss probe or retransmission timeout: `tcpi_rto`, 200 ms and the round trip at the least, more
    /// where a route raises `rto_min`); a look before that took the server for a dead one, and its POST ran twice
    /// (adv5). Until such a segment has left (`tcpi_last_data_sent` no later than the send) the look waits for the
    /// retransmission timeout (the kernel's timer may fire an eighth late); once it has, for its ACK (a copy may be
    /// the first the peer got, and it may delay that ACK: `retransmitAllowance`, or the round trip if longer) and
    /// its way back. A later segment of the request itself serves as well: its ACK covers every byte before it.
    /// Never sooner than now: where the retransmission is late, the look comes again.
    static func judgeableAt(_ view: TCPAckView, sentAt: Nanos, now: Nanos) -> Nanos {
        let trip = roundTrip(view)
        let first = sentAt + judgeableAfter(view)
        guard view.unackedSegments > 0 else { return first }
        let answer = max(retransmitAllowance, trip) + trip
        let lastSent = now - Nanos(view.lastDataSentMillis) * 1_000_000
        if lastSent - sentAt > sentAgainSlack { return max(first, lastSent + answer) }
        let rto = Nanos(view.rtoMicros) * 1_000
        let retransmitted = sentAt + rto + rto / 8 + answer
        return max(first, retransmitted > now ? retransmitted : now + answer)
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
