// When the cgroup v1 freezer files are read: they give no notification, so all of them every interval, on a grid.

/// The polling schedule for cgroup v1 watches, a pure value with the time passed in. Polls fall on a fixed grid
/// (first watch + k × interval): a late loop turn costs one late poll, not a shifted schedule or a burst of catch-up
/// reads. So a freeze or thaw is seen at most one interval (plus the loop's lateness) after it happened, and one
/// that lasts less than the interval may not be seen at all.
struct FreezerPoll: Equatable, Sendable {
    /// Time between polls.
    let interval: Nanos
    /// v1 watches in force.
    private(set) var watched = 0
    /// The next poll; nil while nothing is watched.
    private(set) var due: Nanos?

    /// A schedule that polls every `interval`.
    init(interval: Nanos) {
        precondition(interval > 0, "a poll interval must be positive")
        self.interval = interval
    }

    /// A v1 watch began at `now`; returns the delay to arm the timer with when it was not running.
    mutating func added(now: Nanos) -> Nanos? {
        watched += 1
        guard due == nil else { return nil }
        due = now + interval
        return interval
    }

    /// A v1 watch ended. The last one stops the schedule; the timer, if armed, fires once more and finds nothing due.
    mutating func removed() {
        precondition(watched > 0, "a v1 watch ended that never began")
        watched -= 1
        if watched == 0 { due = nil }
    }

    /// The timer fired at `now`: whether to read the files, and the delay to arm it with next (nil: leave it off).
    mutating func fired(now: Nanos) -> (read: Bool, next: Nanos?) {
        guard let at = due else { return (false, nil) }
        // Early (timer rounding): wait for the rest.
        guard now >= at else { return (false, at - now) }
        let missed = (now - at) / interval
        let next = at + (missed + 1) * interval
        due = next
        return (true, next - now)
    }
}
