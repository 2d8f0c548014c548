// The freezer watch's commands on the pools: watch, unwatch, the configured watches, and what each transition does.
import EventLoop

extension PoolManager {
    /// This worker's watcher, made with the first watch.
    var watcher: FreezerWatcher {
        if let w = freezer { return w }
        let w = FreezerWatcher(manager: self, base: base, pollInterval: settings.freezerPollInterval)
        freezer = w
        return w
    }

    /// Watches `cgroup` for `key` (creating the pool, as /pause does) and makes the pool follow it from now on: paused
    /// while the cgroup is frozen. A second watch of another cgroup replaces the first.
    /// Past --max-upstreams with nothing to forget, a new endpoint named by /watch is refused before any watch is
    /// made. One the configuration names is not: the file bounds those, and each worker's table is its own, so a
    /// refusal would leave the watch on some workers only (the frozen upstream's callers on the others sent to it).
    /// With `settle` false (a move every worker must make before any lets go), a frozen cgroup pauses at once but a
    /// thawed one does not end the old watch's hold: `settleWatch` does, once every worker has made the watch, so a
    /// worker does not send its held requests to a still frozen container before another refuses and it takes back.
    func watch(_ key: PoolKey, cgroup: CgroupFreezer, source: WatchSource, now: Nanos, settle: Bool = true) throws(FreezerError) -> Upstream {
        if source == .api, commandPools(key, now: now) == nil { throw FreezerError(noRoomForCommand) }
        let frozen = try watcher.watch(key, cgroup: cgroup, source: source, now: now).frozen
        let pool = self.pool(for: key, now: now)
        // A watch cancels a pending forget, as a pause does: the entry's drop would end the watch just made. The
        // watcher's own removal of a remade cgroup's old watch (item 148) marks one while a request is in flight.
        pool.forgetWhenEmpty = false
        if frozen != pool.holds.watch {
            if frozen { _ = pause(key, rejectNew: false, hold: nil, now: now, by: .watch) } else if settle { _ = resume(key, now: now, by: .watch) }
        }
        return pool
    }

    /// Makes `key`'s watch hold match its cgroup now: resumes a pool a move left held (`watch(settle: false)`), or one
    /// no longer watched at all. Nil when the worker has no entry for `key`.
    @discardableResult
    func settleWatch(_ key: PoolKey, now: Nanos) -> Upstream? {
        guard let pool = existingPool(key) else { return nil }
        let frozen = freezer?.info(key)?.frozen ?? false
        if frozen != pool.holds.watch {
            if frozen { _ = pause(key, rejectNew: false, hold: nil, now: now, by: .watch) } else { _ = resume(key, now: now, by: .watch) }
        }
        return pool
    }

    /// Stops watching `key`; the watch's hold goes with it (the pool resumes unless the API holds it too). Nil when
    /// `key` was not watched.
    func unwatch(_ key: PoolKey, now: Nanos) -> Upstream? {
        guard freezer?.end(key) == true else { return nil }
        let pool = self.pool(for: key, now: now)
        if pool.holds.watch { _ = resume(key, now: now, by: .watch) }
        return pool
    }

    /// Takes back this worker's part of a /watch that another worker refused: `key` goes back to the watch it had
    /// (`previous`), or to none. Ending every watch instead would resume an upstream whose first cgroup is still
    /// frozen. Returns whether `key` is watched afterwards.
    func takeBackWatch(_ key: PoolKey, to previous: (cgroup: CgroupFreezer, source: WatchSource)?, now: Nanos) -> Bool {
        guard let previous else {
            _ = unwatch(key, now: now)
            return false
        }
        if freezer?.current(key)?.cgroup == previous.cgroup {
            freezer?.setSource(key, previous.source)
            return true
        }
        // Ended first, so the refused watch's descriptor place is the one the old watch takes again.
        freezer?.end(key)
        do throws(FreezerError) {
            _ = try watch(key, cgroup: previous.cgroup, source: previous.source, now: now)
            return true
        } catch {
            if pool(for: key, now: now).holds.watch { _ = resume(key, now: now, by: .watch) }
            return false
        }
    }

    /// What the watcher saw for `key` becomes a pause, a resume, both, or the end of the upstream.
    func freezerSaw(_ transition: FreezerTransition, key: PoolKey, now: Nanos) {
        switch transition {
        case .none:
            break
        case .froze:
            _ = pause(key, rejectNew: false, hold: nil, now: now, by: .watch)
        case .thawed:
            _ = resume(key, now: now, by: .watch)
        case .frozeAndThawed:
            _ = pause(key, rejectNew: false, hold: nil, now: now, by: .watch)
            _ = resume(key, now: now, by: .watch)
        case .gone:
            // The container was removed: as /evict?forget=true, after the watch lets go of its hold. The
            // orchestrator's /pause is its own and outlives the container (a replacement at the address may not be
            // ready): then the entry stays, paused, its idle connections closed, until /resume or a forget.
            _ = unwatch(key, now: now)
            _ = evict(key, idleFor: nil, now: now)
            if existingPool(key)?.holds.api == true { return }
            forget(key)
        }
    }

    /// The watch of an upstream whose entry is dropped goes with it: a watch would otherwise bring the entry back
    /// at the next freeze, with none of its holds.
    func entryDropped(_ key: PoolKey) {
        freezer?.end(key)
    }

    /// Makes the watches from the configuration's `freezer:` keys match `settings.destinations`: adds the new ones,
    /// moves changed ones, ends those no longer configured. Watches made by /watch are left alone. Returns the
    /// upstreams whose watch could not be made, with one sentence each; the watch each upstream had before is kept
    /// in the watcher's `beforeReconcile`, for taking back one that another worker could not make (`takeBackWatches`).
    func reconcileConfiguredWatches(now: Nanos, settle: Bool = true) -> [(key: PoolKey, problem: String)] {
        var wanted: [PoolKey: String] = [:]
        for d in settings.destinations {
            if let path = d.freezer, let key = PoolKey(parsing: d.match), wanted[key] == nil { wanted[key] = path }
        }
        let configured = freezer.map { w in w.watched.filter { w.info($0)?.source == .config } } ?? []
        for key in configured where wanted[key] == nil { _ = unwatch(key, now: now) }
        var problems: [(key: PoolKey, problem: String)] = []
        var before: [PoolKey: (cgroup: CgroupFreezer, source: WatchSource)?] = [:]
        for (key, path) in wanted.sorted(by: { $0.key.description < $1.key.description }) {
            if let info = freezer?.info(key), info.source == .api { continue }
            before[key] = .some(freezer?.current(key))
            do throws(FreezerError) {
                _ = try watch(key, cgroup: CgroupFreezer.probe(path, in: CgroupFile.system), source: .config, now: now, settle: settle)
            } catch {
                problems.append((key, "destination \(key): freezer: \(error.message)"))
            }
        }
        // Every attempt made the watcher (`watch`), so none means nothing to take back.
        freezer?.beforeReconcile = before
        return problems
    }

    /// Ends a reload's reconcile (made with `settle` false) once every worker has reported: the watches of `refused`
    /// (refused on some worker) go back to what this worker had before the reload, as a refused /watch is taken
    /// back, so that every worker follows the same cgroups (half a watch held one worker's callers while another's
    /// went to the frozen container); then every upstream the reconcile touched settles (`settleWatch`).
    /// A /watch made since the reconcile is the API's word, the last one: kept, as a reconcile keeps an API watch.
    func takeBackWatches(_ refused: Set<PoolKey>, now: Nanos) {
        let touched = freezer?.beforeReconcile ?? [:]
        for key in touched.keys.sorted(by: { $0.description < $1.description }) {
            if refused.contains(key), freezer?.info(key)?.source != .api, let previous = touched[key] {
                _ = takeBackWatch(key, to: previous, now: now)
            }
            settleWatch(key, now: now)
        }
    }
}
