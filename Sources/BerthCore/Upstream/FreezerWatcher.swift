// One worker's freezer watches: inotify for cgroup v2, a poll timer for v1, and the transition each reading means.
import Glibc
import EventLoop

/// Who asked for a watch: the configuration's per-destination `freezer:` (a reload adds and removes these), or
/// POST /watch (only /unwatch, a forget or the cgroup's removal ends it).
enum WatchSource: String, Sendable {
    case config, api
}

/// What /stats shows of one watch.
struct FreezerWatchInfo: Equatable, Sendable {
    var cgroup: String
    var version: CgroupFreezer.Version
    /// As of the last reading.
    var frozen: Bool
    var source: WatchSource
}

/// The shell of the freezer watch on one worker's loop. Every worker watches for itself (its own inotify descriptor,
/// its own poll timer), as each owns its own pools: no thread and no lock between them. The watcher only reads and
/// reports; what a transition does to the pool is PoolManager's (PoolManager+Freezer.swift).
final class FreezerWatcher: EventHandler {
    /// The manager owns the watcher and outlives it.
    unowned(unsafe) let manager: PoolManager
    private let base: EventBase
    /// cgroup v2's descriptor, made with the first v2 watch.
    private var files: FileWatch?
    /// cgroup v1's timer, made with the first v1 watch.
    private var timer: LoopEvent?
    private var poll: FreezerPoll

    /// One upstream's watch.
    private struct Watch {
        let cgroup: CgroupFreezer
        var source: WatchSource
        let file: CgroupFile
        var tracker: FreezerTracker
        /// v2: the registrations for the state file, for the `cgroup.freeze` files of the cgroup and its ancestors (a
        /// freeze asked for, which the state file reports only once it is complete) and for the directory it sits in.
        var contents: FileWatch.ID?
        var request: [FileWatch.ID] = []
        var parent: FileWatch.ID?
        /// The `cgroup.freeze` files read at each report (CgroupFreezer.requestFiles).
        var requestFiles: [String] = []
        /// v1: counted in the poll schedule.
        var polled = false

        /// Its inotify registrations.
        var registrations: [FileWatch.ID] { [contents, parent].compactMap { $0 } + request }
    }

    private var watches: [PoolKey: Watch] = [:]
    /// The watch each upstream had before the last reconcile of the configured watches touched it (nil: none), for
    /// taking back one that another worker refused (PoolManager.takeBackWatches).
    var beforeReconcile: [PoolKey: (cgroup: CgroupFreezer, source: WatchSource)?] = [:]
    /// The upstreams behind each registration: one cgroup may serve several upstreams (ports), and one directory
    /// holds many cgroups. A registration is removed with its last user.
    private var users: [FileWatch.ID: Set<PoolKey>] = [:]
    /// The upstreams watching each cgroup, by its parent's registration and its name: a removal in a directory of
    /// many watched cgroups goes to those of the removed name alone, not through every user of the directory (a
    /// mass removal of n watched cgroups was n × n steps in one loop turn: 2.7 s for 3,000, every request waiting).
    private struct Entry: Hashable {
        let parent: FileWatch.ID
        let name: String
    }
    private var named: [Entry: Set<PoolKey>] = [:]
    /// Upstreams whose files were reported written in the read being delivered, in order, and whether the state file
    /// was among them: each is read once, at the read's end. A freeze and a thaw both queued before berth reads them
    /// come as `cgroup.freeze`, `cgroup.events`, `cgroup.freeze`, `cgroup.events`; inotify folds only identical
    /// neighbours, so read per report the two state-file reports were each taken for a freeze unseen.
    private var reported: [PoolKey] = []
    private var stateReported: [PoolKey: Bool] = [:]

    /// A watcher polling v1 cgroups every `pollInterval`.
    init(manager: PoolManager, base: EventBase, pollInterval: Nanos) {
        self.manager = manager
        self.base = base
        poll = FreezerPoll(interval: pollInterval)
    }

    /// The upstreams watched, for the configuration's reconciliation.
    var watched: some Collection<PoolKey> { watches.keys }

    /// What /stats shows for `key`, nil when it is not watched.
    func info(_ key: PoolKey) -> FreezerWatchInfo? {
        watches[key].map {
            FreezerWatchInfo(cgroup: $0.cgroup.directory, version: $0.cgroup.version, frozen: $0.tracker.last.frozen, source: $0.source)
        }
    }

    /// The cgroup `key` watches and who asked for it, nil when it is not watched: what a /watch refused on another
    /// worker puts back.
    func current(_ key: PoolKey) -> (cgroup: CgroupFreezer, source: WatchSource)? {
        watches[key].map { ($0.cgroup, $0.source) }
    }

    /// Gives `key`'s watch back to `source` (a refused /watch had made a configured one the API's).
    func setSource(_ key: PoolKey, _ source: WatchSource) {
        if watches[key] != nil { watches[key]!.source = source }
    }

    /// Starts watching `cgroup` for `key`, replacing any other cgroup it had; returns the cgroup's state now. On
    /// failure the old watch, if any, stays.
    func watch(_ key: PoolKey, cgroup: CgroupFreezer, source: WatchSource, now: Nanos) throws(FreezerError) -> FreezerReading {
        if let old = watches[key], old.cgroup == cgroup {
            guard case .missing = old.file.read() else {
                // The same cgroup again: the API's request makes it the API's (a reload will not remove it).
                if source == .api { watches[key]!.source = .api }
                return old.tracker.last
            }
            // The same path, but the cgroup watched there was removed (its file reads ENODEV) and another may have
            // taken the name before berth read the removal (v1 sees it only at the next poll): the removal first,
            // as if read already (the manager ends this watch, closes idle connections, forgets the entry), then a
            // watch of whatever is there now. Kept, the old watch answered for the new cgroup with the old one's
            // state and then took its removal for the new one's, ending the watch the orchestrator had just made.
            reread(key, notified: true, now: now)
        }
        // The open state file is a descriptor like a caller's, and takes a place under max-callers.
        let places = manager.watchDescriptors
        guard places?.take() ?? true else {
            throw FreezerError("no descriptor left to watch \(cgroup.stateFile): berth's callers and watches together "
                + "hold max-callers (\(places!.limit())); end watches (/unwatch), or raise RLIMIT_NOFILE or max-callers")
        }
        let file: CgroupFile
        do throws(FreezerError) { file = try CgroupFile(cgroup.stateFile) } catch {
            places?.give()
            throw error
        }
        var w = Watch(cgroup: cgroup, source: source, file: file, tracker: FreezerTracker(first: FreezerReading(frozen: false)))
        do throws(FreezerError) {
            // Registered before the first read, so a change between the two is not missed.
            if cgroup.version == .v2 {
                let f = try fileWatch()
                w.contents = try register(f.watchContents(of: cgroup.stateFile), cgroup.stateFile)
                w.requestFiles = cgroup.requestFiles { access($0, F_OK) == 0 }
                for path in w.requestFiles {
                    if let id = try register(f.watchContents(of: path), path, optional: true) { w.request.append(id) }
                }
                w.parent = try register(f.watchRemovals(in: cgroup.parent), cgroup.parent)
            }
            guard case .text(let text) = file.read(), let first = cgroup.reading(text) else {
                throw FreezerError("cannot read \(cgroup.stateFile) as a freezer state")
            }
            w.tracker = FreezerTracker(first: first, requested: Self.requested(w.requestFiles))
        } catch {
            file.close()
            places?.give()
            // Registrations nobody else uses go again; shared ones (the old watch's among them) stay.
            for id in w.registrations where users[id] == nil { files?.remove(id) }
            throw error
        }
        for id in w.registrations { users[id, default: []].insert(key) }
        if let old = watches[key] { release(old, key: key, keeping: Set(w.registrations)) }
        if let parent = w.parent { named[Entry(parent: parent, name: cgroup.name), default: []].insert(key) }
        if cgroup.version == .v1 {
            w.polled = true
            if let delay = poll.added(now: now) { armTimer(delay) }
        }
        watches[key] = w
        return w.tracker.last
    }

    /// Ends `key`'s watch; false when it had none. The pool's hold is the caller's to release.
    @discardableResult
    func end(_ key: PoolKey) -> Bool {
        guard let w = watches.removeValue(forKey: key) else { return false }
        release(w, key: key)
        return true
    }

    /// Closes everything (teardown).
    func close() {
        for (key, w) in watches { release(w, key: key) }
        watches.removeAll()
        files?.close()
        files = nil
        timer?.free()
        timer = nil
    }

    // MARK: readings

    /// The kernel reported a change (v2).
    private func changed(_ change: FileWatch.Change) {
        let now = MonotonicClock.now()
        switch change {
        case .modified(let id):
            for key in users[id] ?? [] {
                guard let w = watches[key], w.contents == id || w.request.contains(id) else { continue }
                if stateReported[key] == nil { reported.append(key) }
                stateReported[key] = (stateReported[key] ?? false) || w.contents == id
            }
            return
        default:
            break
        }
        // Anything else is handled in its order: the reports before it are read first.
        readReported()
        switch change {
        case .modified:
            break
        case .removed(let id, let name):
            for key in named[Entry(parent: id, name: name)] ?? [] where watches[key]?.parent == id {
                reread(key, notified: true, now: now, checkDirectory: true)
            }
        case .ended(let id):
            // A watched file or directory itself went away, and the kernel may hand its number out again: forget it,
            // and read what is left.
            for key in users.removeValue(forKey: id) ?? [] {
                if watches[key]?.contents == id { watches[key]!.contents = nil }
                watches[key]?.request.removeAll { $0 == id }
                if let w = watches[key], w.parent == id {
                    forgetName(key, parent: id, name: w.cgroup.name)
                    watches[key]!.parent = nil
                }
                reread(key, notified: true, now: now)
            }
        case .overflowed:
            for key in Array(watches.keys) where watches[key]?.cgroup.version == .v2 { reread(key, notified: true, now: now) }
        }
    }

    /// Reads each upstream reported since the last call once (`reported`).
    private func readReported() {
        guard !reported.isEmpty else { return }
        let keys = reported, state = stateReported
        reported.removeAll(keepingCapacity: true)
        stateReported.removeAll(keepingCapacity: true)
        let now = MonotonicClock.now()
        for key in keys { reread(key, notified: true, now: now, requestOnly: state[key] != true) }
    }

    /// Reads `key`'s state file and hands the transition it means to the manager, which may end this watch.
    /// `checkDirectory`: an entry of that name left the parent, so look for the directory itself first (an open
    /// cgroup file reads ENODEV once its cgroup is gone, but the name may also have been reused). `requestOnly`:
    /// only `cgroup.freeze` files were reported, not the state file (FreezerTracker.observe).
    private func reread(_ key: PoolKey, notified: Bool, now: Nanos, checkDirectory: Bool = false, requestOnly: Bool = false) {
        guard var w = watches[key] else { return }
        let reading: FreezerReading?
        switch checkDirectory && CgroupFile.system.entry(w.cgroup.directory) != .directory ? .missing : w.file.read() {
        case .missing:
            reading = nil
        case .failed:
            // EIO or the like on a file that was readable: nothing to conclude until it reads again.
            return
        case .text(let text):
            guard let r = w.cgroup.reading(text) else { return }
            reading = r
        }
        let requested = reading != nil && Self.requested(w.requestFiles)
        let transition = w.tracker.observe(reading, requested: requested, notified: notified, requestOnly: requestOnly)
        watches[key] = w
        if transition != .none { manager.freezerSaw(transition, key: key, now: now) }
    }

    /// The v1 timer fired.
    func handleEvent(_ tag: EventTag, what: Int16) {
        let now = MonotonicClock.now()
        let (read, next) = poll.fired(now: now)
        if let next { armTimer(next) }
        guard read else { return }
        for key in Array(watches.keys) where watches[key]?.cgroup.version == .v1 { reread(key, notified: false, now: now) }
    }

    // MARK: registrations

    /// The worker's inotify descriptor, made on first use.
    private func fileWatch() throws(FreezerError) -> FileWatch {
        if let files { return files }
        do throws(FileWatch.Failure) {
            let f = try FileWatch(base: base, onChange: { [unowned self] in self.changed($0) },
                                  onBatchEnd: { [unowned self] in self.readReported() })
            files = f
            return f
        } catch {
            throw FreezerError("cannot create an inotify descriptor: \(error.reason) (see fs.inotify.max_user_instances)")
        }
    }

    /// Whether a freeze of the cgroup or an ancestor is asked for now (their `cgroup.freeze`, each opened for the one
    /// read: they are read only when something was reported, and take no descriptor between reads).
    private static func requested(_ files: [String]) -> Bool {
        files.contains { CgroupFreezer.freezeRequested(CgroupFile.system.read($0)) }
    }

    /// One inotify registration, its failure said with the limit to raise when it is one. `optional`: a file that is
    /// not there is no registration (nil), not a failure.
    private func register(_ add: @autoclosure () throws(FileWatch.Failure) -> FileWatch.ID, _ path: String, optional: Bool = false) throws(FreezerError) -> FileWatch.ID? {
        do throws(FileWatch.Failure) {
            return try add()
        } catch {
            if optional && error.errno == ENOENT { return nil }
            throw FreezerError("cannot watch \(path) with inotify: \(error.reason)\(error.errno == ENOSPC ? " (see fs.inotify.max_user_watches)" : "")")
        }
    }

    /// Gives back a watch's file, its place in the poll schedule and its registrations, except those in `keeping`
    /// (the replacing watch's) and those other upstreams still use.
    private func release(_ w: Watch, key: PoolKey, keeping: Set<FileWatch.ID> = []) {
        w.file.close()
        manager.watchDescriptors?.give()
        // Always: a replacing watch in the same directory registers its own name after this.
        if let parent = w.parent { forgetName(key, parent: parent, name: w.cgroup.name) }
        if w.polled { poll.removed() }
        for id in w.registrations where !keeping.contains(id) {
            users[id]?.remove(key)
            if users[id]?.isEmpty ?? true {
                users[id] = nil
                files?.remove(id)
            }
        }
    }

    /// `key` no longer hears removals of `name` in `parent`.
    private func forgetName(_ key: PoolKey, parent: FileWatch.ID, name: String) {
        let entry = Entry(parent: parent, name: name)
        named[entry]?.remove(key)
        if named[entry]?.isEmpty == true { named[entry] = nil }
    }

    /// Arms the v1 poll timer, made on first use.
    private func armTimer(_ delay: Nanos) {
        if timer == nil { timer = LoopEvent(timerOn: base, handler: self, tag: .timer) }
        timer!.add(after: delay)
    }
}
