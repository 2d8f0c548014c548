// The admin endpoints: /pause, /resume, /evict, /watch, /unwatch, /stats, /metrics, /healthz, /readyz and the status page,
// with method, parameter and cross-site checks.
import HTTP1
import EventLoop

/// Dispatches admin requests to the pool manager and the stats renderers.
final class AdminRoutes {
    unowned let admin: AdminServer

    init(admin: AdminServer) { self.admin = admin }

    /// Answers `head` through `respond`, at once or later (a /pause with drain waits).
    func handle(_ head: RequestHead, life: AdminConnectionLife = AdminConnectionLife(), respond: @escaping (AdminResponse) -> Void) {
        // First, for every path: a rebinding page must not learn even what exists. A Unix socket is exempt, as no
        // browser can open one and its clients put placeholders in Host (curl --unix-socket, requests-unixsocket).
        if admin.address.family != .unix,
           let refusal = AdminHostCheck.refusal(head, allowed: admin.server.configuration.adminHosts) {
            return respond(AdminResponse.error(421, refusal))
        }
        let (path, query) = split(head.path)
        // Health probes stay open: they reveal nothing and kubelet httpGet probes cannot carry a secret. So does the
        // status page: a static document, whose script asks for /stats with the token the operator types in.
        let isOpen = path == "/healthz" || path == "/readyz" || StatusPage.paths.contains(path)
        if !isOpen, let token = admin.server.adminToken, !BearerToken.authorized(head, token: token) {
            var r = AdminResponse.error(401, "missing or wrong bearer token")
            r.headers = [("WWW-Authenticate", "Bearer realm=\"berth-admin\"")]
            return respond(r)
        }
        // Without a token, a mutation must not come from another site's page (with one, it has passed the check above).
        if admin.server.adminToken == nil, let refusal = CrossSiteCheck.refusal(head) {
            return respond(AdminResponse.error(403, refusal))
        }
        do throws(AdminError) {
            if head.method == .connect {
                throw AdminError(status: 405, message: "CONNECT is not an admin method: the admin API is no proxy (send proxied requests to the proxy listener)")
            }
            switch path {
            case "/pause": try requirePOST(head); try pause(query, life: life, respond: respond)
            case "/resume": try requirePOST(head); try resume(query, respond: respond)
            case "/evict": try requirePOST(head); try evict(query, respond: respond)
            case "/watch": try requirePOST(head); try watch(query, respond: respond)
            case "/unwatch": try requirePOST(head); try unwatch(query, respond: respond)
            case "/stats": try requireGET(head); try stats(query, head: head, life: life, respond: respond)
            case "/metrics": try requireGET(head); try metrics(query, head: head, life: life, respond: respond)
            case "/healthz": try requireGET(head); respond(health(head, ready: false))
            case "/readyz": try requireGET(head); respond(health(head, ready: true))
            case "/", "/ui": try requireGET(head); respond(StatusPage.response(head))
            default: respond(AdminResponse.error(404, "no such endpoint: \(path); see api.md"))
            }
        } catch {
            var r = AdminResponse.error(error.status, error.message)
            if error.status == 405 {
                r.headers = [("Allow", head.method == .connect ? "GET, HEAD, POST" : error.message.hasPrefix("use POST") ? "POST" : "GET, HEAD")]
            }
            respond(r)
        }
    }

    private func split(_ target: String) -> (Substring, Substring) {
        guard let q = target.firstIndex(of: "?") else { return (Substring(target), "") }
        return (target[..<q], target[target.index(after: q)...])
    }

    private func requirePOST(_ head: RequestHead) throws(AdminError) {
        guard head.method == .post else { throw AdminError(status: 405, message: "use POST for this endpoint") }
    }

    private func requireGET(_ head: RequestHead) throws(AdminError) {
        guard head.method == .get || head.method == .head else { throw AdminError(status: 405, message: "use GET for this endpoint") }
    }

    // MARK: mutations

    private func pause(_ q: Substring, life: AdminConnectionLife, respond: @escaping (AdminResponse) -> Void) throws(AdminError) {
        let query = try AdminQuery(q, allowed: ["upstream", "drain", "mode", "hold"])
        guard let key = try query.upstream(required: true) else { return }
        let drain = try query.duration("drain")
        let mode = try query.choice("mode", ["hold", "reject"]) ?? "hold"
        let hold = try query.duration("hold")
        if mode == "reject" && hold != nil { throw .bad("hold= applies to mode=hold only") }
        guard drain != nil else { return pauseEverywhere(key, mode: mode, hold: hold, drain: drain, life: life, respond: respond) }
        // With drain= a worker that pauses answers only once its busy connections drain, and a refusal elsewhere was
        // heard, and the pause taken back, only then: its new requests to the upstream were held meanwhile. So a
        // worker with no room for the upstream's entry is found first, before any pauses.
        admin.gather({ (worker: Worker, reply: @escaping (PauseResult) -> Void) in
            let made = worker.manager.existingPools(at: key).isEmpty
            guard worker.manager.commandPools(key, now: MonotonicClock.now()) != nil else {
                return reply(PauseResult(refusal: worker.manager.noRoomForCommand))
            }
            reply(PauseResult(madeBy: made ? worker.index : nil))
        }, done: { [admin, self] (rooms: [PauseResult]) in
            guard let refusal = rooms.lazy.compactMap(\.refusal).first else {
                return self.pauseEverywhere(key, mode: mode, hold: hold, drain: drain, life: life, respond: respond)
            }
            let made = Set(rooms.compactMap(\.madeBy))
            admin.gather({ (worker: Worker, reply: @escaping (Bool) -> Void) in
                reply(made.contains(worker.index) && worker.manager.forget(endpoint: key))
            }, done: { _ in respond(AdminResponse.error(503, "\(refusal); \(key) is not paused")) })
        })
    }

    /// Every worker pauses its share; with drain=, each answers when its busy connections finish or the time is up.
    private func pauseEverywhere(_ key: PoolKey, mode: String, hold: Nanos?, drain: Nanos?, life: AdminConnectionLife,
                                 respond: @escaping (AdminResponse) -> Void) {
        admin.gather({ (worker: Worker, reply: @escaping (PauseResult) -> Void) in
            // The endpoint's pools: the plain one, its TLS one, or both when https:// and http:// requests reach it.
            let known = worker.manager.existingPools(at: key)
            let made = known.isEmpty
            // Whether this pause changes the worker (a new entry, or a pause the API did not hold): what a refusal
            // elsewhere must take back here.
            let changed = made || !known.contains { $0.holds.api }
            let (pools, closed) = worker.manager.pause(key, rejectNew: mode == "reject", hold: hold, now: MonotonicClock.now())
            guard !pools.isEmpty else { return reply(PauseResult(refusal: worker.manager.noRoomForCommand)) }
            let result = {
                PauseResult(epoch: pools.map(\.state.epoch).max() ?? 0, closedIdle: closed, inFlight: pools.reduce(0) { $0 + $1.inFlight },
                            madeBy: made ? worker.index : nil, changedBy: changed ? worker.index : nil)
            }
            let busy = pools.filter { $0.inFlight > 0 }
            guard let drain, !busy.isEmpty else { return reply(result()) }
            let once = OnceResponder { _ in reply(result()) }
            // Kept by the worker until it ends: its pools drained, its time ran out, or its connection closed.
            let wait = DrainWait(life: life)
            let timer = OneShotTimer(base: worker.base) { [unowned worker] in
                worker.endDrainWait(wait)
                once.fire(AdminResponse(status: 200, body: []))
            }
            wait.timer = timer
            wait.answerNow = { once.fire(AdminResponse(status: 200, body: [])) }
            var draining = busy.count
            for pool in busy {
                // Told on a loop turn of its own (DrainNotices), never inside the release that drained the pool.
                let waiter = worker.manager.awaitDrain(pool) { [unowned worker] in
                    draining -= 1
                    guard draining == 0 else { return }
                    worker.endDrainWait(wait)
                    once.fire(AdminResponse(status: 200, body: []))
                }
                wait.waiters.append((pool, waiter))
            }
            worker.keepDrainWait(wait)
            timer.start(after: drain)
        }, done: { [admin] (results: [PauseResult]) in
            if let refusal = results.lazy.compactMap(\.refusal).first {
                // Half a pause would hold some workers' callers and not others': where it paused, it is resumed, and
                // the entries it made go again. A worker that knew the upstream unpaused (a request made its entry
                // there, not on the worker with no room) was paused too, and the answer says "not paused".
                let made = Set(results.compactMap(\.madeBy))
                let changed = Set(results.compactMap(\.changedBy))
                return admin.gather({ (worker: Worker, reply: @escaping (Bool) -> Void) in
                    guard changed.contains(worker.index) else { return reply(false) }
                    _ = worker.manager.resume(key, now: MonotonicClock.now())
                    reply(made.contains(worker.index) && worker.manager.forget(endpoint: key))
                }, done: { _ in respond(AdminResponse.error(503, "\(refusal); \(key) is not paused")) })
            }
            var w = JSONWriter()
            w.beginObject()
            w.field("upstream", key.description)
            w.field("state", "paused")
            w.field("mode", mode)
            w.field("epoch", results.map(\.epoch).max() ?? 0)
            w.field("closed_idle", results.reduce(0) { $0 + $1.closedIdle })
            w.field("in_flight", results.reduce(0) { $0 + $1.inFlight })
            w.endObject()
            respond(AdminResponse(status: 200, body: w.finish()))
        })
    }

    private func resume(_ q: Substring, respond: @escaping (AdminResponse) -> Void) throws(AdminError) {
        let query = try AdminQuery(q, allowed: ["upstream", "prewarm"])
        guard let key = try query.upstream(required: true) else { throw .bad("missing upstream") }
        let prewarm = try query.integer("prewarm", max: 10_000) ?? 0
        let n = admin.workers.count
        admin.gather({ (worker: Worker, reply: @escaping (ResumeResult) -> Void) in
            let (pools, released) = worker.manager.resume(key, now: MonotonicClock.now())
            guard !pools.isEmpty else { return reply(ResumeResult(refusal: worker.manager.noRoomForCommand)) }
            // Each worker opens its share: a prewarmed connection serves only its own worker's callers.
            let share = prewarm / n + (worker.index < prewarm % n ? 1 : 0)
            let started = worker.manager.prewarmTarget(pools).map { Prewarmer.start(count: share, pool: $0, worker: worker) } ?? 0
            // The endpoint's pools hear the same commands and watch: the first holder found speaks for them.
            reply(ResumeResult(epoch: pools.map(\.state.epoch).max() ?? 0, released: released, prewarmed: started,
                               pausedBy: pools.lazy.compactMap { $0.holds.heldBy }.first))
        }, done: { (results: [ResumeResult]) in
            // A worker with no entry for the upstream (and no room for one) held nothing of it: the resume took
            // effect wherever it was known, and is refused only when no worker knew it.
            if results.allSatisfy({ $0.refusal != nil }), let refusal = results.first?.refusal {
                return respond(AdminResponse.error(503, "\(refusal); \(key) was not known, and is not now"))
            }
            let results = results.filter { $0.refusal == nil }
            var w = JSONWriter()
            w.beginObject()
            w.field("upstream", key.description)
            // The freezer watch still holding it (the kernel has it frozen) keeps it paused, with its epoch.
            let heldBy = results.lazy.compactMap(\.pausedBy).first
            w.field("state", heldBy == nil ? "active" : "paused")
            if let heldBy { w.field("paused_by", heldBy) }
            w.field("epoch", results.map(\.epoch).max() ?? 0)
            w.field("released", results.reduce(0) { $0 + $1.released })
            w.field("prewarmed", results.reduce(0) { $0 + $1.prewarmed })
            w.endObject()
            respond(AdminResponse(status: 200, body: w.finish()))
        })
    }

    private func evict(_ q: Substring, respond: @escaping (AdminResponse) -> Void) throws(AdminError) {
        let query = try AdminQuery(q, allowed: ["upstream", "idle_for", "forget"])
        let key = try query.upstream(required: false)
        let idleFor = try query.duration("idle_for", zero: true)
        let forget = try query.boolean("forget") ?? false
        if forget && key == nil { throw .bad("forget=true needs upstream=HOST:PORT") }
        admin.gather({ (worker: Worker, reply: @escaping (EvictResult) -> Void) in
            let m = worker.manager
            let closed = m.evict(key, idleFor: idleFor, now: MonotonicClock.now())
            var forgotten = false
            var pending = false
            if let key, forget {
                let known = !m.existingPools(at: key).isEmpty
                forgotten = known && m.forget(endpoint: key)
                pending = known && !forgotten
            }
            reply(EvictResult(closed: closed, forgotten: forgotten, pending: pending))
        }, done: { (results: [EvictResult]) in
            var w = JSONWriter()
            w.beginObject()
            w.field("closed", results.reduce(0) { $0 + $1.closed })
            if let key {
                w.field("upstream", key.description)
                // Still open somewhere: the entry goes when its last connection closes.
                let pending = results.contains { $0.pending }
                w.field("forgotten", forget && !pending && results.contains { $0.forgotten })
                w.field("forget_pending", pending)
            }
            w.endObject()
            respond(AdminResponse(status: 200, body: w.finish()))
        })
    }

    // MARK: reads

    private func metrics(_ q: Substring, head: RequestHead, life: AdminConnectionLife,
                         respond: @escaping (AdminResponse) -> Void) throws(AdminError) {
        let query = try AdminQuery(q, allowed: ["upstreams"])
        let c = admin.server.configuration
        // Until the configuration carries `metricsUpstreams`, its deprecated bool stands for it (true is the default).
        let configured = c.metricsUpstreams
        let upstreams = try query.choice("upstreams", MetricsUpstreams.allCases.map(\.rawValue)).flatMap(MetricsUpstreams.init(rawValue:)) ?? configured
        // Taken and merged in slices as /stats is (a snapshot of 10,000 pools in one go held the loop ~16 ms), one
        // snapshot at a time (`SnapshotTurns`).
        let admin = admin
        admin.snapshotTurns.take(life: life) { turn in
            let respond = turn.ending(respond)
            admin.gather({ (worker: Worker, reply: @escaping (StatsSnapshot) -> Void) in
                SnapshotTaker(worker, listed: nil, summarize: false, done: reply).start()
            }, done: { (parts: [StatsSnapshot]) in
                admin.later {
                    SnapshotMerger(parts, base: admin.base, around: { [worker = admin.worker] in worker.holdingForAdmin($0) }) { merged in
                        AdminRoutes.metricsPage(admin, HandedOver(merged), upstreams: upstreams, headOnly: head.method == .head, respond: respond)
                    }.start()
                }
            })
        }
    }

    /// /metrics from the merged snapshot in three loop turns of their own: which upstreams get series, by name (at
    /// 10,000 paused upstreams a sort of every name, ~1.5 ms), the page (quick but for `upstreams=all`, which writes
    /// every upstream's series), then the snapshot freed (~1 ms).
    private static func metricsPage(_ admin: AdminServer, _ snapshot: HandedOver<StatsSnapshot>, upstreams: MetricsUpstreams,
                                    headOnly: Bool, respond: @escaping (AdminResponse) -> Void) {
        let server = admin.server
        admin.later {
            let s = snapshot.take()
            let listing = MetricsRenderer.listing(s, upstreams)
            let listed = HandedOver(s)
            admin.later {
                let s = listed.take()
                var r = AdminResponse(status: 200, owned: MetricsRenderer.text(s, listing, uptime: server.uptime,
                                                                              profile: server.configuration.profile, upstreams: upstreams))
                r.contentType = "text/plain; version=0.0.4; charset=utf-8"
                r.headOnly = headOnly
                let spent = HandedOver(s)
                admin.later { _ = spent.take() }
                respond(r)
            }
        }
    }

    private func health(_ head: RequestHead, ready: Bool) -> AdminResponse {
        let down = ready && admin.worker.isShuttingDown
        var w = JSONWriter()
        w.beginObject()
        w.field("status", down ? "draining" : "ok")
        w.endObject()
        var r = AdminResponse(status: down ? 503 : 200, body: w.finish())
        r.headOnly = head.method == .head
        return r
    }
}

/// One worker's answer to /pause; `madeBy` names the worker when the pause made the upstream's entry there,
/// `changedBy` when it made it or paused an entry the API did not hold, and `refusal` says why a worker made none
/// (--max-upstreams).
struct PauseResult {
    var epoch: UInt64 = 0, closedIdle = 0, inFlight = 0
    var madeBy: Int?
    var changedBy: Int?
    var refusal: String?
}
/// One worker's answer to /resume; `pausedBy` is set while the freezer watch still holds the upstream, `refusal`
/// when the worker had no room for its entry.
struct ResumeResult {
    var epoch: UInt64 = 0, released = 0, prewarmed = 0
    var pausedBy: String?
    var refusal: String?
}
/// One worker's answer to /evict.
struct EvictResult { var closed: Int; var forgotten: Bool; var pending: Bool }

/// Makes sure an asynchronous admin answer is sent once.
final class OnceResponder {
    private var respond: ((AdminResponse) -> Void)?
    init(_ r: @escaping (AdminResponse) -> Void) { respond = r }
    func fire(_ r: AdminResponse) {
        guard let f = respond else { return }
        respond = nil
        f(r)
    }
}
