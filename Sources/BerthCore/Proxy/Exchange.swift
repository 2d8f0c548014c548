// What one request/response exchange carries through its phases, and the pure rules of its end; reused per caller.
import HTTP1
import EventLoop

/// Per-request state of a proxy session: the request, where both bodies stand, and the facts its end is judged by.
struct Exchange {
    var request = RequestHead()
    /// The upstream it goes to, once routed (the access log's `upstream`; none for a request refused before): a key
    /// set here (a CONNECT target, named with its tunnel pool), else the pool's. A request's is read from its pool, not stored: a stored copy
    /// retained and released the key's two strings and its reference per request.
    var key: PoolKey? {
        get { namedKey ?? pool?.key }
        set { namedKey = newValue }
    }
    private var namedKey: PoolKey?
    var pool: Upstream?
    /// Where the request body stands.
    var requestBody: Body = .done
    var requestBodyBytes: UInt64 = 0
    /// Where the response stands.
    var response: ResponseProgress = .awaitingHead
    var responseStatus = 0
    /// The upstream's head allowed keep-alive, and the connection may take another request (not after an HTTP/1.0
    /// answer to a chunked request: `RelayMachine`, item 112).
    var responseKeepAlive = true
    /// The upstream head's `Keep-Alive: timeout=N` in seconds, -1 for none: the connection's idle limit when pooled.
    var upstreamKeepAliveTimeout: Int32 = -1
    /// The upstream's final head was HTTP/1.0: its server knows no chunked framing (`Upstream.answersHTTP10`).
    var upstreamSpokeHTTP10 = false
    /// Bytes of the response read from the upstream (head included).
    var responseBytes: UInt64 = 0
    /// Whether berth keeps the caller connection after this exchange.
    var callerKeepAlive = true
    var socketTimeout: Nanos = 0
    var reused = false
    /// The request's upstream name was looked up before it took a connect place (`ProxySession.lookUpFirst`): once
    /// per exchange, so an answer that expires while the request waits in a queue is looked up again inside the
    /// connect rather than in a loop of lookups and waits.
    var lookedUpFirst = false
    /// Why the request went out a second time, nil while it went once.
    var retry: RetryReason?
    /// The request already went out a second time: never a third.
    var retried: Bool { retry != nil }
    /// What the access log reports of the pool and the waits.
    var facts = ExchangeFacts()
    /// A copy of the request body kept for a replay (`replay: unread`), or why there is none.
    var replay = ReplayCopy.off
    var startedAt: Nanos = 0
    var sentAt: Nanos = 0
    var firstByteAt: Nanos = 0
    /// The generation the request named (`Berth-Generation`), once admitted; nil without the header. The access
    /// log's `generation`.
    var generation: String?
    /// The cause berth answered with, for the access log.
    var errorCause: ErrorCause?
    /// Bytes were moved toward the upstream (or the caller) since its last flush.
    var upstreamUnflushed = false
    var callerUnflushed = false
    /// What berth had written to the upstream and the upstream had not yet acknowledged, at the socket timeout's
    /// last look (0: no look yet); the next look compares against it.
    var upstreamBacklog = 0
    /// The answer is whole and the exchange waits for the request's tail to leave berth (`holdsRequestTail`).
    var holdingTail = false
    /// The dead-peer check is armed (a reused connection, no response byte yet), and the bytes the connection had
    /// handed to the kernel before this request, which its peer had all acknowledged.
    var deadPeerWatch = false
    /// The `Max-Forwards` a TRACE or OPTIONS goes on with (the caller's less one); -1 leaves the head as it came.
    var maxForwards = -1
    var sentBefore: UInt64 = 0
    /// The request head's length, the first bytes past `sentBefore` (set with it when the check is armed), and the
    /// bytes the peer had acknowledged at the check's last look (0: none yet), for a head it took only in part.
    var sentHead: UInt64 = 0
    var ackedAtLook: UInt64 = 0
    /// Whether the head's end had certainly left berth's host at that look (`DeadPeer.headLeft`).
    var headLeftAtLook = false
    /// When the armed dead-peer check looks at the kernel: request bytes that restart the socket timeout do not
    /// move it, so a body still flowing to a dead peer is caught as soon as a bodiless request is. 0: at the socket
    /// timeout, which request bytes restart as for any request (the socket timeout is not above the dead-peer one).
    var deadPeerAt: Nanos = 0
    /// The reused connection ended with a FIN that acknowledged none of the request, and berth waits until
    /// `deadPeerAt` for the reset that shows its server never read it (`ProxySession.closedUnread`).
    var awaitingReset = false

    /// When the response head being read must be whole (`response-head-timeout` after its first read that left it
    /// partial), 0 while none is under way. The socket timeout bounds each silence; this bounds a head dripped a byte
    /// at a time under it. A head whole in one read never sets it.
    var headDeadline: Nanos = 0
    /// When the caller's held last chunk and trailer section must be whole (`header-timeout` after the first ask
    /// that found them partial), 0 while none is held. The caller's bytes restart the socket timeout, so without it
    /// a section dripped a byte at a time under that timeout held the exchange for up to 16 KiB of timeouts.
    var trailerDeadline: Nanos = 0

    /// The upstream's timeout from `now`: the socket timeout, or while an early dead-peer check is armed, what is
    /// left of its delay; never past a held deadline (a head's, or either trailer section's).
    @inline(__always)
    func upstreamTimeout(now: Nanos) -> Nanos {
        if deadPeerWatch && deadPeerAt != 0 { return max(1, deadPeerAt - now) }
        if _slowPath(headDeadline | trailerDeadline != 0) { return max(1, min(socketTimeout, heldDeadline - now)) }
        return socketTimeout
    }

    /// The sooner of the held deadlines that are set (0 for none).
    var heldDeadline: Nanos {
        if headDeadline == 0 { return trailerDeadline }
        if trailerDeadline == 0 { return headDeadline }
        return min(headDeadline, trailerDeadline)
    }

    /// The socket timeout started again at a timer's firing that found the exchange still moving (the upstream
    /// still taking queued bytes, a dead-peer look that found the peer there), stopped at a held deadline. Asked
    /// only once `headIsLate` and `trailerIsLate` said no, so such a deadline is more than `lateSlack` away: never
    /// the 1 ns that `upstreamTimeout` gives for a deadline already passed, a timer that fires at once.
    func timeoutAfterLook(now: Nanos) -> Nanos {
        let held = heldDeadline
        guard held > 0 else { return socketTimeout }
        return min(socketTimeout, max(Exchange.lateSlack, held - now))
    }

    /// How early a timer may fire for a deadline and still count as at it (libevent may wake a little early).
    static let lateSlack: Nanos = 1_000_000

    /// Whether a head's deadline has come at `now` (the timer's firing, which may run a little early).
    func headIsLate(now: Nanos) -> Bool {
        headDeadline > 0 && now + Exchange.lateSlack >= headDeadline
    }

    /// Whether the caller's held trailer section's deadline has come at `now`.
    func trailerIsLate(now: Nanos) -> Bool {
        trailerDeadline > 0 && now + Exchange.lateSlack >= trailerDeadline
    }
    /// The caller closed its sending side after a whole request: its response still goes out, and it is not read again.
    var callerSendingEnded = false
    /// berth sent the caller a `100 Continue` in a silent origin's place (`continuesForCaller`).
    var continueSent = false
    /// The origin's own `100 Continue` went to the caller: its expectation is answered.
    var continueRelayed = false

    /// Every request byte was read from the caller.
    var requestDone: Bool { requestBody.isDone }

    /// The response head went to the caller: from here on berth cannot answer, only cut.
    var responseHeadSent: Bool {
        switch response {
        case .awaitingHead, .headReady: return false
        case .streaming, .complete: return true
        }
    }

    /// The body going to the caller is chunked, so that a cut shows as a missing last chunk; no other framing can
    /// show one (a Content-Length already sent, a close-delimited or de-chunked body).
    var callerFramingShowsCut: Bool {
        guard case .streaming(let body, let reframed) = response else { return false }
        switch body {
        case .untilClose: return reframed
        case .chunked: return !reframed
        case .length, .done: return false
        }
    }

    /// How the body being relayed changes framing on its way to the caller.
    var reframe: Reframe {
        guard case .streaming(let body, true) = response else { return .asIs }
        if case .untilClose = body { return .chunk }
        return .dechunk
    }

    /// The whole response went to the caller.
    var responseDone: Bool {
        if case .complete = response { return true }
        return false
    }

    /// Clears everything for the next request as a new exchange is, but the head: the next one is swapped in for it
    /// (`RequestHeadParser.takeHead`, which clears the old one for its next parse), and until then only a request
    /// whose head was read reads it. Done when an exchange ends with the caller kept (`ProxySession.endExchange`,
    /// after its access log), so that berth's own answer to what comes next on the connection (a bad head, a header
    /// timeout) reads a clean exchange, not the last one's facts. A replay copy must have been given back first.
    mutating func reset() {
        // Matched by case, with no store in the usual case: `!= nil` on the key copied it to compare and consumed the
        // copy (two outlined calls), and storing `.off` over `.off` consumed the old value (one).
        switch replay {
        case .off: break
        case .holding: preconditionFailure("an exchange was reset while holding a replay copy")
        case .skipped: replay = .off
        }
        if case .some = namedKey { namedKey = nil }  // no release calls in the usual case: not a CONNECT
        pool = nil
        requestBody = .done
        requestBodyBytes = 0
        holdingTail = false
        response = .awaitingHead
        responseStatus = 0
        responseKeepAlive = true
        upstreamKeepAliveTimeout = -1
        upstreamSpokeHTTP10 = false
        responseBytes = 0
        headDeadline = 0
        trailerDeadline = 0
        callerKeepAlive = true
        socketTimeout = 0
        reused = false
        lookedUpFirst = false
        retry = nil
        facts.reset()
        startedAt = 0
        sentAt = 0
        firstByteAt = 0
        errorCause = nil
        if generation != nil { generation = nil }  // no release call in the usual case: none named
        upstreamUnflushed = false
        callerUnflushed = false
        callerSendingEnded = false
        continueSent = false
        continueRelayed = false
        upstreamBacklog = 0
        deadPeerWatch = false
        awaitingReset = false
        maxForwards = -1
    }

    /// Gives the replay copy back, recording why when a reason is given.
    mutating func dropReplay(into store: ReplayStore, because reason: ReplaySkip?) {
        if case .holding(let buffer) = replay { store.giveBack(buffer) }
        replay = reason.map { .skipped($0) } ?? .off
    }

    /// The replay policy of the exchange's upstream (the pool's settings own it; no pool reads as the default).
    var replayPolicy: ReplayPolicy { pool?.settings.replay ?? .idempotent }
}

/// Why a request went out a second time.
enum RetryReason: String, Sendable, CaseIterable {
    case idempotent
    case idempotencyKey = "idempotency-key"
    case unread
    /// The peer's kernel never acknowledged the request on a reused connection (see `DeadPeer`).
    case deadPeer = "dead-peer"
}

/// Why a request under `replay: unread` could not be kept for a replay.
enum ReplaySkip: String, Sendable, CaseIterable {
    /// The body outgrew --replay-buffer: it streams as usual and the copy is dropped.
    case bodyTooLarge = "body-too-large"
    /// Every replay buffer of the global cap was in use.
    case bufferFull = "buffer-full"
}

/// The replay copy of one exchange.
enum ReplayCopy {
    /// Not kept: the policy does not ask for it.
    case off
    /// The body bytes sent so far.
    case holding(ReplayBuffer)
    /// Given up for this reason; the request cannot be replayed.
    case skipped(ReplaySkip)
}
