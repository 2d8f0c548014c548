// The caller side of a proxy session as a pure machine: where it is, what the caller's one timer runs to, and what a timeout means.

/// Events in, verdicts out: `ProxySession` feeds it what happened and carries out the timer change it returns. Time
/// comes in as a parameter, so the rules (a header timeout that runs from a head's first byte whatever its pace, an
/// idle timeout only between requests, the acquire wait measured from the queueing) are tested with plain numbers.
struct CallerMachine: Equatable {
    /// Where the session is; each state keeps its own data.
    enum State: Equatable {
        /// Between requests, no byte of the next head yet: the caller's idle timeout runs.
        case idle
        /// The first bytes of a head arrived at `since`: the header timeout runs from then, however slowly the rest
        /// dribbles in (slowloris).
        case readingHead(since: Nanos)
        /// A whole head arrived; berth is choosing its upstream (no upstream exists yet).
        case routing
        /// Queued in the pool since `since`.
        case acquiring(since: Nanos)
        /// A new upstream connection is being resolved and opened (the Connector holds the connect timeout).
        case connecting
        /// Request and response are flowing (the upstream's socket timeout runs on its channel).
        case exchanging
        /// Bytes flow both ways untouched (CONNECT or Upgrade).
        case tunnel
        /// Writing the last bytes before closing.
        case closing
        /// Everything is closed or returned.
        case closed
    }

    /// What to do with the caller's timer.
    enum Timer: Equatable {
        /// Set it to fire `after` nanoseconds from now.
        case arm(after: Nanos)
        /// Drop the deadline.
        case clear
        /// Leave it as it is.
        case keep
    }

    /// What the caller's timer firing means in the current state.
    enum Timeout: Equatable {
        /// A head started and did not finish in time: answer 408, then close.
        case headerTimeout
        /// Nothing to answer: close the connection.
        case close
        /// The pool had no connection within the acquire (or pause hold) timeout, after waiting `waited`.
        case acquireTimedOut(waited: Nanos)
        /// Not the caller's timer's business in this state.
        case ignore
    }

    /// How the session closes (see `closing`).
    enum Closing: Equatable {
        /// Nothing is left to write: close now.
        case now
        /// Close once the output has left, under this timer.
        case afterFlush(Timer)
    }

    /// A new caller connection starts idle, waiting for its first head. The timeouts come with each event rather than
    /// living here, so a reload reaches connections that are already open.
    private(set) var state: State = .idle

    /// The caller connected: the idle timeout runs until the first byte of a head.
    func started(idleTimeout: Nanos) -> Timer { .arm(after: idleTimeout) }

    /// Whether head bytes are being waited for (the session parses what arrives only then).
    var awaitingHead: Bool {
        switch state {
        case .idle, .readingHead: return true
        default: return false
        }
    }

    /// Between requests with nothing of the next head: shutdown may close the connection at once.
    var isIdle: Bool { state == .idle }

    /// Bytes of a head are buffered at `now`: the first ones start the header timeout.
    mutating func headBytes(now: Nanos, headerTimeout: Nanos) -> Timer {
        guard state == .idle else { return .keep }
        move(to: .readingHead(since: now))
        return .arm(after: headerTimeout)
    }

    /// A whole head was parsed; routing comes next and no caller deadline runs.
    mutating func headComplete() -> Timer {
        move(to: .routing)
        return .clear
    }

    /// Queued in the pool at `now`, for at most `limit`.
    mutating func queued(now: Nanos, limit: Nanos) -> Timer {
        move(to: .acquiring(since: now))
        return .arm(after: limit)
    }

    /// Waiting in the pool since when, or nil when not queued.
    var queuedSince: Nanos? {
        if case .acquiring(let since) = state { return since }
        return nil
    }

    /// Left the pool's queue with an answer: the caller's deadline no longer applies.
    func waitEnded() -> Timer { .clear }

    /// A connect started (the pool gave a slot, or a CONNECT target was allowed).
    mutating func connecting() { move(to: .connecting) }

    /// The request went out on a connection.
    mutating func exchanging() { move(to: .exchanging) }

    /// The exchange became a tunnel (CONNECT answered, or 101 Switching Protocols): the Tunnel takes the caller's
    /// events and its timer from here.
    mutating func tunnel() {
        move(to: .tunnel)
    }

    /// The exchange ended and the caller stays: it waits for its next head under the idle timeout.
    mutating func nextRequest(idleTimeout: Nanos) -> Timer {
        move(to: .idle)
        return .arm(after: idleTimeout)
    }

    /// The caller's output backed up while the upstream still sends: the upstream is paused, and the caller's idle
    /// timeout bounds how long berth waits for the caller to read. (Only while exchanging, so no state is read.)
    static func callerBackedUp(idleTimeout: Nanos) -> Timer { .arm(after: idleTimeout) }

    /// The upstream is read again (the caller drained what was backed up, or the exchange started): the caller's
    /// deadline no longer applies.
    static let upstreamFlowing = Timer.clear

    /// The session writes what is left and closes: at once when nothing is left, else under the idle timeout, so a
    /// caller that stops reading cannot hold the session.
    mutating func closing(outputPending: Bool, idleTimeout: Nanos) -> Closing {
        move(to: .closing)
        return outputPending ? .afterFlush(.arm(after: idleTimeout)) : .now
    }

    /// The session closes now; returns the state it was in, which says what to give back (a queue place, a connect
    /// slot). Closing twice returns `.closed`.
    mutating func close() -> State {
        let was = state
        state = .closed
        return was
    }

    /// The caller's timer fired at `now`.
    func timedOut(now: Nanos) -> Timeout {
        switch state {
        case .readingHead: return .headerTimeout
        case .idle, .exchanging, .tunnel, .closing: return .close
        case .acquiring(let since): return .acquireTimedOut(waited: now - since)
        case .routing, .connecting, .closed: return .ignore
        }
    }

    /// The one funnel for transitions: a pair that cannot happen traps in debug builds (swift-nio's lifecycle
    /// managers do the same), so a session that skips a step is caught where it happens.
    private mutating func move(to next: State) {
        assert(Self.allowed(from: state, to: next), "caller session cannot go from \(state) to \(next)")
        state = next
    }

    /// The legal transitions; `close()` may come from anywhere.
    static func allowed(from: State, to: State) -> Bool {
        switch (from, to) {
        case (.idle, .readingHead), (.readingHead, .routing):
            return true
        case (.routing, .acquiring), (.routing, .connecting), (.routing, .exchanging):
            return true
        case (.acquiring, .connecting), (.acquiring, .exchanging):
            return true
        case (.connecting, .exchanging), (.connecting, .tunnel):
            return true
        // A retry goes back to the pool; a 101 turns the exchange into a tunnel.
        case (.exchanging, .acquiring), (.exchanging, .connecting), (.exchanging, .tunnel), (.exchanging, .exchanging):
            return true
        // The exchange ended (answered by the upstream or by berth): the next request, or closing.
        case (.routing, .idle), (.acquiring, .idle), (.connecting, .idle), (.exchanging, .idle):
            return true
        case (.closed, _):
            return false
        case (_, .closing):
            return from != .closing
        default:
            return false
        }
    }
}
