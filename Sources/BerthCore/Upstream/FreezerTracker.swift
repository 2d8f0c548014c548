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
    /// The state the upstream follows: frozen while the kernel has the cgroup frozen or a freeze of it is asked for.
    private(set) var last: FreezerReading
    /// The state file's own last reading (cgroup v2's `cgroup.events`), for telling a freeze berth did not see.
    private var lastEvents: FreezerReading
    /// A report of `cgroup.freeze` alone moved the upstream since the state file's last report: that report (it
    /// comes from a kernel work queue, maybe after the write that undid what it reports) is explained already.
    private var requestMoved = false

    /// Starts from the reading taken when the watch began, and whether a freeze was asked for then.
    init(first: FreezerReading, requested: Bool = false) {
        lastEvents = first
        last = FreezerReading(frozen: first.frozen || requested, populated: first.populated)
    }

    /// `reading` nil means the state file is gone. `requested`: cgroup v2's `cgroup.freeze` says 1, a freeze asked
    /// for that the kernel may not have finished (a task in uninterruptible sleep holds `frozen` at 0 for as long
    /// as it waits, while the server's processes are already frozen; v1 says FREEZING then, which reads as frozen).
    /// `notified` says the kernel reported a change (cgroup v2): inotify folds identical queued events into one, so a
    /// freeze and a thaw both written before berth read the first arrive as one notification whose reading looks
    /// unchanged. Unless `populated` moved (which also notifies), that notification is a freeze berth did not see, and
    /// its connections must not outlive it. A poll (v1) sees no such thing: a freeze between two polls goes
    /// unnoticed (the price of polling, docs/architecture.md). `requestOnly`: only `cgroup.freeze` was reported
    /// written; the state file's own report follows (or came before) and is judged against what it last said, so the
    /// second report of one freeze or thaw is not taken for a freeze unseen.
    mutating func observe(_ reading: FreezerReading?, requested: Bool = false, notified: Bool, requestOnly: Bool = false) -> FreezerTransition {
        guard let reading else { return .gone }
        let now = FreezerReading(frozen: reading.frozen || requested, populated: reading.populated)
        let before = lastEvents, explained = requestMoved
        defer {
            last = now
            if !requestOnly { lastEvents = reading }
        }
        if !requestOnly { requestMoved = false }
        if now.frozen != last.frozen {
            if requestOnly { requestMoved = true }
            return now.frozen ? .froze : .thawed
        }
        // Frozen before and after: whatever happened in between, the upstream stayed paused and opened nothing.
        if notified, !requestOnly, !explained, !now.frozen, reading.frozen == before.frozen, reading.populated == before.populated {
            return .frozeAndThawed
        }
        return .none
    }
}
