// The single gate a connection passes to go back to its pool: it names every reason not to reuse it.

/// What is known about a connection when its exchange ends.
struct ReleaseFacts: Sendable {
    /// The response was read to its end with known framing (not until-close).
    var responseComplete: Bool
    /// Every request byte was sent.
    var requestComplete: Bool
    /// Neither side asked to close.
    var keepAlive: Bool
    /// An error, timeout, caller abort or upgrade already decided the matter.
    var failure: CloseReason?
    /// Requests served, this one included.
    var requestsServed: Int
    /// When the connection was opened.
    var openedAt: Nanos
    /// The pool epoch the connection was opened in.
    var epoch: UInt64
    /// The response's `Keep-Alive: timeout=N` in seconds, -1 for none: the idle limit if it is pooled.
    var keepAliveTimeout: Int32 = -1
}

extension ReleaseFacts {
    /// Facts for a connection that never carried this request (handed to a session that had already gone).
    static func unused(_ c: UpstreamConnection) -> ReleaseFacts {
        ReleaseFacts(responseComplete: true, requestComplete: true, keepAlive: true, failure: nil,
                     requestsServed: c.requestsServed, openedAt: c.openedAt, epoch: c.epoch)
    }
}

/// The pool's side of the decision.
struct ReleasePolicy: Sendable {
    var currentEpoch: UInt64
    var paused: Bool
    /// /evict?forget=true is waiting for this pool to empty.
    var forgetting: Bool = false
    var maxRequests: Int
    var maxAge: Nanos
}

/// nginx's keepalive module checks the same things and jumps to `invalid`; berth names the reason so it can be counted.
enum ReleaseGate {
    /// nil when the connection may be reused, otherwise why it must be closed.
    static func verdict(_ facts: ReleaseFacts, policy: ReleasePolicy, now: Nanos) -> CloseReason? {
        if let failure = facts.failure { return failure }
        if !facts.requestComplete { return .requestIncomplete }
        if !facts.responseComplete { return .responseIncomplete }
        if !facts.keepAlive { return .upstreamClose }
        if policy.paused { return .paused }
        if policy.forgetting { return .evicted }
        if facts.epoch != policy.currentEpoch { return .staleEpoch }
        if facts.requestsServed >= policy.maxRequests { return .maxRequests }
        if now - facts.openedAt >= policy.maxAge { return .maxAge }
        return nil
    }
}
