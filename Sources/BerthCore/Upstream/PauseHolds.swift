// Who holds an upstream paused (the admin API, the freezer watch, or both) and how often each paused it.

/// What can pause an upstream. Each holds it on its own; it resumes only when neither does.
enum PauseSource: String, Sendable, CaseIterable {
    /// POST /pause and /resume.
    case api
    /// The freezer watch: the kernel froze or thawed the upstream's cgroup.
    case watch
}

/// What caused a pause, as `pauses` and the `cause` label name it.
enum PauseCause: String, CaseIterable, Sendable {
    case api, watch, both

    /// Its count in `c`.
    func count(_ c: PauseCounts) -> UInt64 {
        switch self {
        case .api: return c.api
        case .watch: return c.watch
        case .both: return c.both
        }
    }
}

/// Pauses of one upstream, by cause, and the resumes that ended them.
struct PauseCounts: Equatable, Sendable {
    /// An active upstream paused by the API.
    var api: UInt64 = 0
    /// An active upstream paused by the watch.
    var watch: UInt64 = 0
    /// One source took hold of a pause the other already held: both saw the same freeze.
    var both: UInt64 = 0
    /// Paused upstreams made active again (with a new epoch).
    var resumes: UInt64 = 0

    /// Adds a forgotten upstream's counts.
    mutating func add(_ o: PauseCounts) {
        api &+= o.api
        watch &+= o.watch
        both &+= o.both
        resumes &+= o.resumes
    }

    /// The same upstream as another worker saw it. Every worker hears every command and every cgroup change, so
    /// each counts the same pauses: the merged figure is the largest, not the sum.
    mutating func merge(_ o: PauseCounts) {
        api = max(api, o.api)
        watch = max(watch, o.watch)
        both = max(both, o.both)
        resumes = max(resumes, o.resumes)
    }
}

/// Whether one upstream is paused, as one fact: who holds it (a /resume cannot thaw what the kernel still has frozen,
/// and a thaw cannot release an upstream the orchestrator paused), how it answers meanwhile, and its pause counts. The
/// pool is paused exactly while `isHeld`; its state (ConnectionPool) keeps this value and nothing else says "paused".
struct PauseHolds: Equatable, Sendable {
    private(set) var api = false
    private(set) var watch = false
    /// While held: new requests are answered at once (/pause?reject=true) instead of held.
    private(set) var rejectNew = false
    /// While held: how long held requests wait (/pause?hold=); nil means the acquire timeout.
    private(set) var holdTimeout: Nanos?
    private(set) var counts = PauseCounts()

    /// What a hold taken means for the pool.
    enum Take: Equatable {
        /// It was active: pause it now.
        case pause
        /// The other source already held it: it stays paused.
        case join
        /// This source already held it.
        case renew
    }

    /// What a hold let go means for the pool.
    enum Release: Equatable {
        /// Nobody holds it any more: resume it.
        case resume
        /// The other source still holds it.
        case stillHeld
        /// This source did not hold it.
        case notHeld
    }

    /// Whether anyone holds it.
    var isHeld: Bool { api || watch }

    /// Who holds it, as /stats and /resume name it: `api`, `watch` or `both`; nil when active.
    var heldBy: String? {
        switch (api, watch) {
        case (true, true): return "both"
        case (true, false): return PauseSource.api.rawValue
        case (false, true): return PauseSource.watch.rawValue
        case (false, false): return nil
        }
    }

    /// `source` takes hold.
    mutating func take(_ source: PauseSource) -> Take {
        let had = held(by: source)
        let other = isHeld && !had
        set(source, true)
        if had { return .renew }
        if other {
            counts.both &+= 1
            return .join
        }
        if source == .api { counts.api &+= 1 } else { counts.watch &+= 1 }
        return .pause
    }

    /// `source` lets go.
    mutating func release(_ source: PauseSource) -> Release {
        guard held(by: source) else { return .notHeld }
        set(source, false)
        if isHeld { return .stillHeld }
        counts.resumes &+= 1
        return .resume
    }

    /// `source` pauses: true when its mode and hold apply, that is when the upstream was active, or when the API
    /// pauses (a second /pause sets them again); the watch joining the API's pause changes neither.
    mutating func pause(by source: PauseSource, rejectNew: Bool, hold: Nanos?) -> Bool {
        guard take(source) == .pause || source == .api else { return false }
        self.rejectNew = rejectNew
        holdTimeout = hold
        return true
    }

    /// `source` lets go: true when the upstream resumes now, because nobody holds it any more, or because the API
    /// resumes it though nobody held it (which just starts a new epoch, as before there was a watch). While the watch
    /// still holds it, the API's mode and hold give way to the watch's: held requests wait the acquire timeout.
    mutating func resume(by source: PauseSource) -> Bool {
        switch release(source) {
        case .resume:
            break
        case .notHeld where source == .api && !isHeld:
            break
        case .stillHeld, .notHeld:
            if source == .api && isHeld { (rejectNew, holdTimeout) = (false, nil) }
            return false
        }
        (rejectNew, holdTimeout) = (false, nil)
        return true
    }

    /// The holds, mode and hold, not the counts, of a paused sibling pool of the same endpoint: a pool made while it
    /// is paused is held by the same sources, so the release that resumes the sibling (a thaw, a /resume) resumes it too.
    mutating func inherit(_ sibling: PauseHolds) {
        api = sibling.api
        watch = sibling.watch
        rejectNew = sibling.rejectNew
        holdTimeout = sibling.holdTimeout
    }

    /// The same upstream on another worker: held if either holds it, counts merged (PauseCounts.merge).
    mutating func merge(_ o: PauseHolds) {
        api = api || o.api
        watch = watch || o.watch
        counts.merge(o.counts)
    }

    /// Whether `source` holds it.
    private func held(by source: PauseSource) -> Bool { source == .api ? api : watch }

    /// Sets `source`'s hold.
    private mutating func set(_ source: PauseSource, _ value: Bool) {
        if source == .api { api = value } else { watch = value }
    }
}
