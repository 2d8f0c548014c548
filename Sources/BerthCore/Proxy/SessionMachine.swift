// A proxy session's one state as a pure machine: where it is and what it holds, what the caller's one timer runs to, and what a timeout means.

/// Events in, verdicts out: `ProxySession` feeds it what happened (with the resource the event brings: a connect
/// slot, a lease, a tunnel) and carries out the timer change it returns. Time comes in as a parameter, so the rules
/// (a header timeout that runs from a head's first byte whatever its pace, an idle timeout only between requests, the
/// acquire wait measured from the queueing) are tested with plain numbers. Every move goes through one funnel that
/// traps on a pair that cannot happen, in release builds too.
struct SessionMachine: ~Copyable {
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
    private(set) var state: SessionState = .idle

    /// Where the session is, without what it holds.
    @inline(__always)
    var phase: SessionPhase { state.phase }

    /// The caller connected: the idle timeout runs until the first byte of a head.
    func started(idleTimeout: Nanos) -> Timer { .arm(after: idleTimeout) }

    /// Whether head bytes are being waited for (the session parses what arrives only then).
    var awaitingHead: Bool {
        switch state {
        case .idle: return true
        case .readingHead: return true
        default: return false
        }
    }

    /// Between requests with nothing of the next head: shutdown may close the connection at once.
    var isIdle: Bool {
        switch state {
        case .idle: return true
        default: return false
        }
    }

    /// Bytes of a head are buffered at `now`: the first ones start the header timeout.
    mutating func headBytes(now: Nanos, headerTimeout: Nanos) -> Timer {
        guard isIdle else { return .keep }
        move(to: .readingHead(since: now))
        return .arm(after: headerTimeout)
    }

    /// A whole head was parsed; routing comes next and no caller deadline runs.
    mutating func headComplete() -> Timer {
        move(to: .routing)
        return .clear
    }

    /// Queued in `pool` at `now`, for at most `limit`.
    mutating func queued(now: Nanos, limit: Nanos, in pool: Upstream) -> Timer {
        move(to: .queued(since: now, pool: pool))
        return .arm(after: limit)
    }

    /// Waiting in the pool since when, or nil when not queued.
    var queuedSince: Nanos? {
        switch state {
        case .queued(let since, _): return since
        default: return nil
        }
    }

    /// Left the pool's queue (with an answer, a timeout or a shutdown): routing again, and the caller's deadline no
    /// longer applies. Returns the pool whose queue it was, so the session leaves it when the pool did not end the wait.
    mutating func waitEnded() -> (pool: Upstream, timer: Timer) {
        switch move(to: .routing) {
        case .queued(_, let pool): return (pool, .clear)
        default: preconditionFailure("a wait ended that was not queued")
        }
    }

    /// A connect started into the slot `ticket` reserves (the pool gave a slot, or a CONNECT target was allowed).
    mutating func connecting(_ ticket: consuming ConnectTicket, tunnel: Bool) {
        move(to: tunnel ? .tunnelConnecting(ticket) : .connecting(ticket))
    }

    /// The connect finished (or failed): its slot comes out, and the session is routing until the slot becomes a
    /// lease or an answer; nil when no connect was under way.
    mutating func takeTicket() -> ConnectTicket? {
        guard state.holdsConnectSlot else { return nil }
        switch move(to: .routing) {
        case .connecting(let ticket): return ticket
        case .tunnelConnecting(let ticket): return ticket
        default: preconditionFailure("unreachable: the state held a connect slot")
        }
    }

    /// The request goes out on the leased connection.
    mutating func relaying(_ lease: consuming UpstreamLease) {
        move(to: .relaying(lease))
    }

    /// The exchange is done with its connection: the lease comes out, and the session is `ending` (the response
    /// ended, or the upstream failed), or with `rerouting` routing again (a retry goes back to the pool, a dead peer
    /// is retried or answered, an upgrade becomes a tunnel); nil when not relaying.
    mutating func takeLease(rerouting: Bool = false) -> UpstreamLease? {
        guard state.holdsLease else { return nil }
        switch move(to: rerouting ? .routing : .ending) {
        case .relaying(let lease): return lease
        default: preconditionFailure("unreachable: the state held a lease")
        }
    }

    /// The exchange became a tunnel (CONNECT answered, or 101 Switching Protocols): the Tunnel takes the caller's
    /// events and its timer from here, and the lease keeps the pool slot.
    mutating func tunnel(_ tunnel: Tunnel, _ lease: consuming UpstreamLease) {
        move(to: .tunnel(tunnel, lease))
    }

    /// The tunnel is over: its lease comes out (the pool slot goes back), and the session is `ending`, on its way to
    /// closing; nil when not in a tunnel.
    mutating func endTunnel() -> UpstreamLease? {
        guard state.tunnel != nil else { return nil }
        switch move(to: .ending) {
        case .tunnel(_, let lease): return lease
        default: preconditionFailure("unreachable: the state held a tunnel")
        }
    }

    /// The exchange ended and the caller stays: it waits for its next head under the idle timeout.
    mutating func nextRequest(idleTimeout: Nanos) -> Timer {
        move(to: .idle)
        return .arm(after: idleTimeout)
    }

    /// Only empty lines came since the last request (RFC 9112 2.2 lets a server skip them): no head began, and the
    /// caller is between requests again, as after `nextRequest` (a drain closes it as an idle caller).
    mutating func noHeadBegun(idleTimeout: Nanos) -> Timer {
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

    /// How long a closing session reads and drops what its caller still sends (`ProxySession.linger`), at most,
    /// unless that is the rest of a request body behind an early answer (`lingerGap`, `lingerTime`).
    static let lingerLimit: Nanos = 2_000_000_000

    /// Over the rest of a request body behind an early answer, the longest silence between two reads of it
    /// (nginx's `lingering_timeout`, 5 s), and the longest linger in all (nginx's `lingering_time`, 30 s); each also
    /// at most the idle timeout, so a lingering caller holds its session no longer than an idle one may. A client
    /// that writes its whole body before it reads the answer must be read to its body's end, or the close resets
    /// the answer away (item 95); the total bounds one that never ends, the gap one that stops.
    static let lingerGap: Nanos = 5_000_000_000
    static let lingerTime: Nanos = 30_000_000_000

    /// A closing session lingers: its caller's last bytes are read and dropped, under the idle timeout and at most
    /// `lingerLimit` (over a body: `lingerGap` at first, `lingeredOverBody` after each read), so a caller that
    /// neither closes nor stops sending cannot hold the session.
    static func lingering(idleTimeout: Nanos, overBody: Bool = false) -> Timer {
        .arm(after: min(idleTimeout, overBody ? lingerGap : lingerLimit))
    }

    /// When a linger over a body that began at `now` ends, whatever the caller sends (`lingerTime`).
    static func lingerEnds(now: Nanos, idleTimeout: Nanos) -> Nanos { now + min(idleTimeout, lingerTime) }

    /// Whether a linger ending at `ends` (0: not over a body, so at most `lingerLimit` in all) is still in its first
    /// `lingerLimit` at `now`, when an answer in flight may hold its session against a new caller at the limit.
    static func lingerGuards(now: Nanos, ends: Nanos, idleTimeout: Nanos) -> Bool {
        ends == 0 || now < ends - min(idleTimeout, lingerTime) + lingerLimit
    }

    /// The caller sent more of its body at `now`: another gap, never past the linger's end (`ends`).
    static func lingeredOverBody(now: Nanos, ends: Nanos, idleTimeout: Nanos) -> Timer {
        .arm(after: max(1, min(idleTimeout, lingerGap, ends - now)))
    }

    /// The session closes now; returns the state it was in, whose resources (a queue place, a connect slot, a lease,
    /// a tunnel) the session gives back. Closing twice returns `.closed`.
    mutating func close() -> SessionState {
        state.replace(with: .closed)
    }

    /// The caller's timer fired at `now`.
    func timedOut(now: Nanos) -> Timeout { Self.timedOut(in: phase, now: now) }

    /// What the caller's timer firing at `now` means in `phase`.
    static func timedOut(in phase: SessionPhase, now: Nanos) -> Timeout {
        switch phase {
        case .readingHead: return .headerTimeout
        case .idle, .exchanging, .tunnel, .closing: return .close
        case .acquiring(let since): return .acquireTimedOut(waited: now - since)
        case .routing, .connecting, .ending, .closed: return .ignore
        }
    }

    /// The one funnel for moves: a pair that cannot happen traps (in release builds too), so a session that skips a
    /// step is caught where it happens instead of giving back the wrong thing later. Returns the state left, whose
    /// resources the caller takes out.
    @discardableResult @inline(__always)
    private mutating func move(to next: consuming SessionState) -> SessionState {
        let from = phase
        let to = next.phase
        precondition(Self.allowed(from: from, to: to), "a session cannot go from \(from) to \(to)")
        return state.replace(with: next)
    }

    /// The legal transitions; `close()` may come from anywhere.
    static func allowed(from: SessionPhase, to: SessionPhase) -> Bool {
        switch (from, to) {
        case (.idle, .readingHead), (.readingHead, .routing):
            return true
        case (.routing, .acquiring), (.routing, .connecting), (.routing, .exchanging), (.routing, .tunnel):
            return true
        // The pool ended the wait: a connection, a slot, or an answer (all from routing).
        case (.acquiring, .routing), (.acquiring, .connecting), (.acquiring, .exchanging):
            return true
        // A connect's slot comes out before it becomes a lease or an answer.
        case (.connecting, .routing), (.connecting, .exchanging), (.connecting, .tunnel):
            return true
        // The exchange ends, fails, becomes a tunnel, or goes back to the pool for a retry.
        case (.exchanging, .ending), (.exchanging, .routing), (.exchanging, .tunnel), (.exchanging, .acquiring),
             (.exchanging, .connecting):
            return true
        case (.tunnel, .ending):
            return true
        // The exchange ended (answered by the upstream or by berth): the next request, or closing.
        case (.routing, .idle), (.acquiring, .idle), (.connecting, .idle), (.ending, .idle):
            return true
        // Only empty lines came (`noHeadBegun`): no head began.
        case (.readingHead, .idle):
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

extension SessionState {
    /// Leaves `next` in place and returns what was there: the one way resources leave the state.
    fileprivate mutating func replace(with next: consuming SessionState) -> SessionState {
        let old = consume self
        self = next
        return old
    }
}
