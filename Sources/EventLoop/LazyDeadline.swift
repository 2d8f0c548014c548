// The single, lazily re-armed deadline of a channel, as a pure value that takes the time and says what to arm.

/// One deadline per channel, armed lazily as nginx's timers are: moving the deadline later keeps the armed timer,
/// which on firing early re-arms for the rest; only an earlier deadline re-arms at once. Each request moves several
/// deadlines, and every event_add or event_del is a timer-heap update. The shell (`Channel`) reads the clock, passes
/// it in, and carries out the answer, so the rules are testable without sleeping.
struct LazyDeadline: Equatable {
    /// The deadline the owner asked for; 0 when none.
    private(set) var wanted: Nanos = 0
    /// When the timer fires; 0 when not armed. Never later than `wanted` while one is wanted.
    private(set) var armed: Nanos = 0

    /// What the shell does after `set`.
    enum SetAction: Equatable {
        /// The armed timer already fires in time.
        case keep
        /// (Re-)arm the timer to fire this long from now.
        case arm(after: Nanos)
    }

    /// What the shell does when the timer fires.
    enum FireAction: Equatable {
        /// Nothing is wanted any more (cleared since it was armed).
        case ignore
        /// The deadline moved later: arm again for the rest.
        case rearm(after: Nanos)
        /// The deadline passed: tell the owner.
        case timedOut
    }

    /// Wants the deadline `nanos` after `now`, replacing any earlier one.
    mutating func set(_ nanos: Nanos, now: Nanos) -> SetAction {
        let deadline = now + nanos
        wanted = deadline
        if armed == 0 || deadline < armed {
            armed = deadline
            return .arm(after: nanos)
        }
        return .keep
    }

    /// Wants no deadline; an armed timer fires once more and is ignored.
    @inline(__always)
    mutating func clear() { wanted = 0 }

    /// The armed timer fired at `now`.
    mutating func fired(now: Nanos) -> FireAction {
        armed = 0
        guard wanted != 0 else { return .ignore }
        if now < wanted {
            armed = wanted
            return .rearm(after: wanted - now)
        }
        wanted = 0
        return .timedOut
    }
}
