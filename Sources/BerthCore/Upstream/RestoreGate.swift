// Coalesces a burst of VM restore signals: the first acts at once, the rest within the spacing become one more, later.

/// When a restore signal is acted on. The first after a quiet spell acts at once (the pools are suspect now); signals
/// within `spacing` of the last action wait for its end and then act once, however many came. So a flood (a loop
/// writing synthetic uevents, a queue overrun after overrun) closes the pools at most once per spacing, and the last
/// signal of any burst is never lost.
struct RestoreGate: Equatable, Sendable {
    /// The least time between two actions.
    let spacing: Nanos
    /// When the last action was; nil before the first.
    private(set) var lastAction: Nanos?
    /// A signal is waiting for the spacing to pass (its timer is armed).
    private(set) var pending = false

    /// What a signal means now.
    enum Decision: Equatable {
        /// Act on it now.
        case act
        /// Arm the timer for this time; `fired` acts then.
        case wait(until: Nanos)
        /// Already waiting: it joins the action to come.
        case joined
    }

    /// A gate whose actions are at least `spacing` apart.
    init(spacing: Nanos) {
        precondition(spacing > 0, "a restore gate needs a spacing")
        self.spacing = spacing
    }

    /// A signal arrived at `now`.
    mutating func signal(now: Nanos) -> Decision {
        if pending { return .joined }
        if let last = lastAction, now - last < spacing {
            pending = true
            return .wait(until: last + spacing)
        }
        lastAction = now
        return .act
    }

    /// The timer armed by `.wait` fired at `now`: whether to act (false when nothing waits).
    mutating func fired(now: Nanos) -> Bool {
        guard pending else { return false }
        pending = false
        lastAction = now
        return true
    }
}
