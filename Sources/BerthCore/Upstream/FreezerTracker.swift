// What a freezer reading means for an upstream, given the one before: it froze, it thawed, both unseen, or it is gone.

/// What the watch does to the upstream after one reading.
enum FreezerTransition: Equatable, Sendable {
    case none
    /// Pause it, as /pause does.
    case froze
    /// Resume it with a new epoch, as /resume does.
    case thawed
    /// A freeze came and went between two reads: pause and resume at once, so no connection from before it is reused.
    case frozeAndThawed
    /// The cgroup was removed (its container is gone): forget the upstream.
    case gone
}

/// The last freezer state the watch saw for one cgroup, and the rule that turns the next reading into a transition.
struct FreezerTracker: Equatable, Sendable {
    private(set) var last: FreezerReading

    /// Starts from the reading taken when the watch began.
    init(first: FreezerReading) { last = first }

    /// `reading` nil means the state file is gone. `notified` says the kernel reported a change (cgroup v2): inotify
    /// folds identical queued events into one, so a freeze and a thaw both written before berth read the first
    /// arrive as one notification whose reading looks unchanged. Unless `populated` moved (which also notifies), that
    /// notification is a freeze berth did not see, and its connections must not outlive it. A poll (v1) sees no
    /// such thing: a freeze between two polls goes unnoticed (the price of polling, docs/architecture.md).
    mutating func observe(_ reading: FreezerReading?, notified: Bool) -> FreezerTransition {
        guard let reading else { return .gone }
        defer { last = reading }
        if reading.frozen != last.frozen { return reading.frozen ? .froze : .thawed }
        // Frozen before and after: whatever happened in between, the upstream stayed paused and opened nothing.
        if notified, !reading.frozen, reading.populated == last.populated { return .frozeAndThawed }
        return .none
    }
}
