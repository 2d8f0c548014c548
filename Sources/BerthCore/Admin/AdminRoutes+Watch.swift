// The freezer watch's admin endpoints: POST /watch?upstream=&cgroup= and POST /unwatch?upstream=.
import EventLoop

extension AdminRoutes {
    /// Makes every worker pause `upstream` while the cgroup is frozen. The path is checked here, once, so a bad one
    /// is a 400 before any worker is touched.
    func watch(_ q: Substring, respond: @escaping (AdminResponse) -> Void) throws(AdminError) {
        let query = try AdminQuery(q, allowed: ["upstream", "cgroup"])
        guard let key = try query.upstream(required: true) else { return }
        guard let path = query.values["cgroup"], !path.isEmpty else {
            throw .bad("missing cgroup=PATH, the directory of the upstream's container in the cgroup file system")
        }
        let cgroup: CgroupFreezer
        do throws(FreezerError) {
            cgroup = try CgroupFreezer.probe(path, in: CgroupFile.system)
        } catch {
            // No descriptor to read the state file with is berth's own shortage, which passes: 503, as for a connect
            // (out-of-descriptors); a 400 told the orchestrator its path was wrong.
            throw error.outOfDescriptors ? AdminError(status: 503, message: error.message) : .bad(error.message)
        }
        admin.gather({ (worker: Worker, reply: @escaping (WatchResult) -> Void) in
            let previous = worker.manager.freezer?.current(key)
            do throws(FreezerError) {
                // A thawed cgroup does not end the old watch's hold yet: only once every worker has the watch.
                let pool = try worker.manager.watch(key, cgroup: cgroup, source: .api, now: MonotonicClock.now(), settle: false)
                var result = WatchResult(pool)
                result.previous = previous
                reply(result)
            } catch {
                reply(WatchResult(failure: error.message))
            }
        }, done: { [admin] (results: [WatchResult]) in
            if let (i, failure) = results.enumerated().lazy.compactMap({ i, r in r.failure.map { (i, $0) } }).first {
                // Half a watch would pause some workers' callers and not others': take it back everywhere, to the
                // watch each worker had (a refusing worker kept its own).
                admin.gather({ (worker: Worker, reply: @escaping (Bool) -> Void) in
                    let mine = results[worker.index]
                    if mine.failure != nil {
                        reply(worker.manager.freezer?.current(key) != nil)
                    } else {
                        reply(worker.manager.takeBackWatch(key, to: mine.previous, now: MonotonicClock.now()))
                    }
                }, done: { (watched: [Bool]) in
                    let now = watched.allSatisfy { $0 } ? "keeps the watch it had" : watched.contains(true)
                        ? "keeps the watch it had on some workers only (watch it again)" : "is not watched"
                    respond(AdminResponse.error(503, "worker \(i) could not watch \(cgroup.directory): \(failure); \(key) \(now)"))
                })
                return
            }
            // Every worker has the watch: each lets go of an old hold its new cgroup does not keep.
            admin.gather({ (worker: Worker, reply: @escaping (WatchResult) -> Void) in
                let now = MonotonicClock.now()
                reply(WatchResult(worker.manager.settleWatch(key, now: now) ?? worker.manager.pool(for: key, now: now)))
            }, done: { (settled: [WatchResult]) in
                let merged = WatchResult.merged(settled)
                var w = JSONWriter()
                w.beginObject()
                w.field("upstream", key.description)
                w.field("cgroup", cgroup.directory)
                w.field("cgroup_version", cgroup.version.rawValue)
                w.field("frozen", merged.frozen)
                merged.writeState(&w)
                w.endObject()
                respond(AdminResponse(status: 200, body: w.finish()))
            })
        })
    }

    /// Ends the watch of `upstream` on every worker; its hold goes, so the upstream resumes unless the API holds it.
    /// An upstream that was not watched is not an error: its container may have been removed, which ends the watch.
    func unwatch(_ q: Substring, respond: @escaping (AdminResponse) -> Void) throws(AdminError) {
        let query = try AdminQuery(q, allowed: ["upstream"])
        guard let key = try query.upstream(required: true) else { return }
        admin.gather({ (worker: Worker, reply: @escaping (WatchResult?) -> Void) in
            reply(worker.manager.unwatch(key, now: MonotonicClock.now()).map { WatchResult($0) })
        }, done: { (results: [WatchResult?]) in
            let ended = results.compactMap { $0 }
            var w = JSONWriter()
            w.beginObject()
            w.field("upstream", key.description)
            w.field("unwatched", !ended.isEmpty)
            if !ended.isEmpty { WatchResult.merged(ended).writeState(&w) }
            w.endObject()
            respond(AdminResponse(status: 200, body: w.finish()))
        })
    }
}

/// One worker's answer to /watch or /unwatch.
struct WatchResult {
    var frozen = false
    var epoch: UInt64 = 0
    /// `api`, `watch` or `both` while paused.
    var pausedBy: String?
    var failure: String?
    /// The watch the worker had before a /watch replaced it, for taking the command back.
    var previous: (cgroup: CgroupFreezer, source: WatchSource)?

    /// The pool's state after the command.
    init(_ pool: Upstream) {
        frozen = pool.manager.freezer?.info(pool.key)?.frozen ?? false
        epoch = pool.state.epoch
        pausedBy = pool.holds.heldBy
    }

    /// A worker that could not watch.
    init(failure: String) { self.failure = failure }

    /// The workers' answers as one: each saw the same cgroup, so any frozen or paused one speaks for all.
    static func merged(_ results: [WatchResult]) -> WatchResult {
        var out = results[0]
        for r in results.dropFirst() {
            out.frozen = out.frozen || r.frozen
            out.epoch = max(out.epoch, r.epoch)
            out.pausedBy = out.pausedBy ?? r.pausedBy
        }
        return out
    }

    /// `state`, `paused_by` (when paused) and `epoch`.
    func writeState(_ w: inout JSONWriter) {
        w.field("state", pausedBy == nil ? "active" : "paused")
        if let pausedBy { w.field("paused_by", pausedBy) }
        w.field("epoch", epoch)
    }
}
