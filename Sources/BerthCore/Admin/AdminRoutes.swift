// The admin endpoints: /pause, /resume, /evict, /stats, /metrics, /healthz, /readyz, with method and parameter checks.
import HTTP1
internal import CLibevent

/// Dispatches admin requests to the pool manager and the stats renderers.
final class AdminRoutes {
    unowned let admin: AdminServer

    init(admin: AdminServer) { self.admin = admin }

    private var manager: PoolManager { admin.worker.manager }

    /// Answers `head` through `respond`, at once or later (a /pause with drain waits).
    func handle(_ head: RequestHead, respond: @escaping (AdminResponse) -> Void) {
        let (path, query) = split(head.path)
        // Health probes stay open: they reveal nothing and kubelet httpGet probes cannot carry a secret.
        let isProbe = path == "/healthz" || path == "/readyz"
        if !isProbe, let token = admin.server.adminToken, !authorized(head, token: token) {
            var r = AdminResponse.error(401, "missing or wrong bearer token")
            r.headers = [("WWW-Authenticate", "Bearer realm=\"berth-admin\"")]
            return respond(r)
        }
        do {
            switch path {
            case "/pause": try requirePOST(head); try pause(query, respond: respond)
            case "/resume": try requirePOST(head); respond(try resume(query))
            case "/evict": try requirePOST(head); respond(try evict(query))
            case "/stats": try requireGET(head); respond(try stats(query, head: head))
            case "/metrics": try requireGET(head); respond(try metrics(query, head: head))
            case "/healthz": try requireGET(head); respond(health(head, ready: false))
            case "/readyz": try requireGET(head); respond(health(head, ready: true))
            default: respond(AdminResponse.error(404, "no such endpoint: \(path); see api.md"))
            }
        } catch {
            var r = AdminResponse.error(error.status, error.message)
            if error.status == 405 { r.headers = [("Allow", error.message.hasPrefix("use POST") ? "POST" : "GET, HEAD")] }
            respond(r)
        }
    }

    private func split(_ target: String) -> (Substring, Substring) {
        guard let q = target.firstIndex(of: "?") else { return (Substring(target), "") }
        return (target[..<q], target[target.index(after: q)...])
    }

    private func authorized(_ head: RequestHead, token: String) -> Bool {
        guard let v = head.headers["authorization"], v.hasPrefix("Bearer ") else { return false }
        let given = Array(v.dropFirst(7).utf8)
        let want = Array(token.utf8)
        // Constant-time compare: the token guards who may close every connection.
        var diff = given.count ^ want.count
        for i in 0..<min(given.count, want.count) { diff |= Int(given[i] ^ want[i]) }
        return diff == 0
    }

    private func requirePOST(_ head: RequestHead) throws(AdminError) {
        guard head.method == .post else { throw AdminError(status: 405, message: "use POST for this endpoint") }
    }

    private func requireGET(_ head: RequestHead) throws(AdminError) {
        guard head.method == .get || head.method == .head else { throw AdminError(status: 405, message: "use GET for this endpoint") }
    }

    // MARK: mutations

    private func pause(_ q: Substring, respond: @escaping (AdminResponse) -> Void) throws(AdminError) {
        let query = try AdminQuery(q, allowed: ["upstream", "drain", "mode", "hold"])
        guard let key = try query.upstream(required: true) else { return }
        let drain = try query.duration("drain")
        let mode = try query.choice("mode", ["hold", "reject"]) ?? "hold"
        let hold = try query.duration("hold")
        if mode == "reject" && hold != nil { throw .bad("hold= applies to mode=hold only") }
        let now = MonotonicClock.now()
        let (pool, closed) = manager.pause(key, rejectNew: mode == "reject", hold: hold, now: now)
        let answer: () -> AdminResponse = {
            var w = JSONWriter()
            w.beginObject()
            w.field("upstream", key.description)
            w.field("state", "paused")
            w.field("mode", mode)
            w.field("epoch", pool.state.epoch)
            w.field("closed_idle", closed)
            w.field("in_flight", pool.inFlight)
            w.endObject()
            return AdminResponse(status: 200, body: w.text + "\n")
        }
        guard let drain, pool.inFlight > 0 else { return respond(answer()) }
        // Answer when the busy connections finish or the drain time is up, whichever comes first.
        let once = OnceResponder(respond)
        let timer = OneShotTimer(base: admin.base) { once.fire(answer()) }
        pool.drainWaiters.append {
            timer.cancel()
            once.fire(answer())
        }
        timer.start(after: drain)
    }

    private func resume(_ q: Substring) throws(AdminError) -> AdminResponse {
        let query = try AdminQuery(q, allowed: ["upstream", "prewarm"])
        guard let key = try query.upstream(required: true) else { throw .bad("missing upstream") }
        let prewarm = try query.integer("prewarm", max: 10_000) ?? 0
        let now = MonotonicClock.now()
        let (pool, released) = manager.resume(key, now: now)
        let started = Prewarmer.start(count: prewarm, pool: pool, worker: admin.worker)
        var w = JSONWriter()
        w.beginObject()
        w.field("upstream", key.description)
        w.field("state", "active")
        w.field("epoch", pool.state.epoch)
        w.field("released", released)
        w.field("prewarmed", started)
        w.endObject()
        return AdminResponse(status: 200, body: w.text + "\n")
    }

    private func evict(_ q: Substring) throws(AdminError) -> AdminResponse {
        let query = try AdminQuery(q, allowed: ["upstream", "idle_for", "forget"])
        let key = try query.upstream(required: false)
        let idleFor = try query.duration("idle_for")
        let forget = try query.boolean("forget") ?? false
        if forget && key == nil { throw .bad("forget=true needs upstream=HOST:PORT") }
        let closed = manager.evict(key, idleFor: idleFor, now: MonotonicClock.now())
        var w = JSONWriter()
        w.beginObject()
        w.field("closed", closed)
        if let key {
            w.field("upstream", key.description)
            let forgotten = forget ? manager.forget(key) : false
            w.field("forgotten", forgotten)
            // Still open: the entry goes when its last connection closes.
            w.field("forget_pending", forget && !forgotten && manager.existingPool(key) != nil)
        }
        w.endObject()
        return AdminResponse(status: 200, body: w.text + "\n")
    }

    // MARK: reads

    private func stats(_ q: Substring, head: RequestHead) throws(AdminError) -> AdminResponse {
        let query = try AdminQuery(q, allowed: ["upstream"])
        let key = try query.upstream(required: false)
        if let key, manager.existingPool(key) == nil {
            throw AdminError(status: 404, message: "berth knows no upstream \(key)")
        }
        var r = AdminResponse(status: 200, body: StatsRenderer.json(admin.server, worker: admin.worker, only: key))
        r.headOnly = head.method == .head
        return r
    }

    private func metrics(_ q: Substring, head: RequestHead) throws(AdminError) -> AdminResponse {
        _ = try AdminQuery(q, allowed: [])
        var r = AdminResponse(status: 200, body: MetricsRenderer.text(admin.server, worker: admin.worker))
        r.contentType = "text/plain; version=0.0.4; charset=utf-8"
        r.headOnly = head.method == .head
        return r
    }

    private func health(_ head: RequestHead, ready: Bool) -> AdminResponse {
        let down = ready && admin.worker.isShuttingDown
        var w = JSONWriter()
        w.beginObject()
        w.field("status", down ? "draining" : "ok")
        w.endObject()
        var r = AdminResponse(status: down ? 503 : 200, body: w.text + "\n")
        r.headOnly = head.method == .head
        return r
    }
}

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

/// A one-shot timer that runs a closure once and frees its event.
final class OneShotTimer: EventHandler {
    private var event: LoopEvent?
    private var action: (() -> Void)?

    init(base: OpaquePointer, action: @escaping () -> Void) {
        self.action = action
        event = LoopEvent(base: base, fd: -1, flags: 0, handler: self, tag: .timer)
    }

    func start(after nanos: Nanos) { event?.add(after: nanos) }

    func cancel() {
        event?.free()
        event = nil
        action = nil
    }

    func handleEvent(_ tag: EventTag, what: Int16) {
        let a = action
        cancel()
        a?()
    }
}
