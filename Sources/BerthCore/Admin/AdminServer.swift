// The admin listener: accepts admin connections (AdminConnection.swift) and runs commands on every worker.
import Glibc
import HTTP1
import EventLoop

/// The orchestrator-facing listener; never shares a port with the proxy.
final class AdminServer {
    unowned let server: BerthServer
    /// The worker whose loop runs the admin listener.
    unowned let worker: Worker
    /// Every worker; commands reach each one on its own thread.
    let workers: [Worker]
    let base: EventBase
    private var listener: Listener!
    private(set) var address: SocketAddress
    private var connections: [ObjectIdentifier: AdminConnection] = [:]
    lazy var routes = AdminRoutes(admin: self)
    /// /stats and /metrics take their snapshots of every pool one at a time.
    lazy var snapshotTurns = SnapshotTurns(admin: self)

    /// Listens on `address`; a Unix socket's file gets `permissions`, its access control.
    init(base: EventBase, address: SocketAddress, permissions: UnixSocketPermissions? = nil, server: BerthServer,
         worker: Worker, workers: [Worker]) throws {
        self.base = base
        self.server = server
        self.worker = worker
        self.workers = workers
        self.address = address
        listener = try Listener(base: base, address: address, reusePort: false, permissions: permissions, keepsSpare: true) { [unowned self] fd in
            self.worker.holdingForAdmin { self.accept(fd) }
        }
        self.address = listener.address
        listener.makeRoom = { [unowned self] in self.worker.holdingForAdmin { self.closeQuietestIdle() } }
    }

    /// Out of descriptors with the reserve held by a connection: the admin connection the longest silent that is not
    /// answering closes, so that its descriptor goes to the one waiting (most likely the orchestrator's command).
    private func closeQuietestIdle() -> Bool {
        guard let quietest = quietest(answering: false, roomAt: nil) else { return false }
        quietest.close()
        return true
    }

    /// The admin connection that makes room: the one silent longest, an answering one only when `answering` allows
    /// and no other may go. One whose client sent bytes berth has not read yet is not silent: its request waits in
    /// the kernel (an orchestrator's command accepted in one burst with a flood of connections that send nothing
    /// looked silent longest by berth's clock, and its close reset the command away, adv9). Such a one is read now,
    /// as its readable event would read it later in this pass: a command is then answered or under way, a client that
    /// sent half a head (a slowloris) is heard and makes room at a later turn. nil once fewer than `roomAt` are open
    /// (an answer read so closed its connection), or when none may go. Off the hot path: at the admin's share only,
    /// one FIONREAD per connection looked at.
    private func quietest(answering: Bool, roomAt: Int?) -> AdminConnection? {
        let order = connections.values.filter { answering || !$0.isAnswering }
            .sorted { ($0.isAnswering ? 1 : 0, $0.lastHeard) < ($1.isAnswering ? 1 : 0, $1.lastHeard) }
        for c in order where c.isOpen && !c.isAnswering {
            guard Socket.queuedToRead(c.channel.fd) > 0 else { return c }
            c.hearNow()
            if let roomAt, connections.count < roomAt { return nil }
        }
        // Every one that was silent had bytes waiting and was heard: the one heard longest ago that is still not
        // answering, else (a new connection at the share) the first answering one, as before.
        let left = order.filter(\.isOpen)
        return left.first { !$0.isAnswering } ?? (answering ? left.first : nil)
    }

    /// A new admin connection.
    private func accept(_ fd: CInt) {
        // The admin's share of descriptors (DescriptorBudget): past it, the connection the longest silent makes
        // room, so that held or abandoned connections (a reset mid-/stats, idle keep-alives) never lock the
        // orchestrator's probe out; the newest caller is the one most likely to be waiting for an answer.
        let share = DescriptorBudget.adminConnections
        if connections.count >= share, let quietest = quietest(answering: true, roomAt: share) {
            quietest.close()
        }
        let c = AdminConnection(admin: self, fd: fd)
        connections[ObjectIdentifier(c)] = c
        c.start()
    }

    /// Runs `job` on every worker's own thread and calls `done` here, on the admin's thread, with the replies in worker
    /// order once all have replied. With one worker it all happens at once, on this thread.
    func gather<T>(_ job: @escaping (Worker, @escaping (T) -> Void) -> Void, done: @escaping ([T]) -> Void) {
        let box = GatherBox<T>(count: workers.count, done: done)
        let home = worker
        for (i, w) in workers.enumerated() {
            if w === home {
                job(w) { box.set(i, $0) }
            } else {
                w.waker.post {
                    w.holdingForAdmin { job(w) { result in home.waker.post { home.holdingForAdmin { box.set(i, result) } } } }
                }
            }
        }
    }

    /// Runs `job` on a later turn of the admin's loop, after the events already waiting: admin work that follows
    /// other admin work in the same callback (a snapshot's last slice, then the pick) holds the loop in two goes.
    func later(_ job: @escaping () -> Void) {
        OneShotTimer(base: base) { [worker] in worker.holdingForAdmin(job) }.start(after: 0)
    }

    func ended(_ c: AdminConnection) {
        connections[ObjectIdentifier(c)] = nil
        // The descriptor just freed goes back into reserve if the reserve was spent on a connection.
        listener.takeSpare()
    }

    /// Stops accepting and closes admin connections.
    func close() {
        listener.close()
        for c in Array(connections.values) { c.close() }
    }
}

/// Collects one reply per worker; touched only on the admin's thread.
final class GatherBox<T>: @unchecked Sendable {
    private var results: [T?]
    private var remaining: Int
    private let done: ([T]) -> Void

    init(count: Int, done: @escaping ([T]) -> Void) {
        results = Array(repeating: nil, count: count)
        remaining = count
        self.done = done
    }

    func set(_ i: Int, _ value: T) {
        guard results[i] == nil else { return }
        results[i] = value
        remaining -= 1
        if remaining == 0 { done(results.map { $0! }) }
    }
}

/// An admin answer.
struct AdminResponse {
    var status: Int
    var body: [UInt8]
    /// A large body (/stats, /metrics) sent from its own memory instead of `body`.
    var owned: OwnedBytes?
    var contentType = "application/json"
    var headers: [(name: StaticString, value: String)] = []
    var headOnly = false
    /// A body still to be rendered, a slice per loop turn (/stats); `owned` once it is finished.
    var sliced: SlicedBody?

    /// A response with a body.
    init(status: Int, body: [UInt8]) {
        self.status = status
        self.body = body
    }

    /// A response with a large body, sent without a copy.
    init(status: Int, owned: OwnedBytes) {
        self.status = status
        self.body = []
        self.owned = owned
    }

    /// A response whose large body is rendered a slice at a time by the connection that sends it.
    init(status: Int, sliced: SlicedBody) {
        self.status = status
        self.body = []
        self.sliced = sliced
    }

    /// Length of the body, whichever way it is held.
    var bodyCount: Int { owned?.count ?? body.count }

    /// A response whose body is `text`.
    init(status: Int, text: String) {
        self.init(status: status, body: Array(text.utf8))
    }

    /// A JSON error `{"error": ..., "status": ...}`.
    static func error(_ status: Int, _ message: String) -> AdminResponse {
        var w = JSONWriter()
        w.beginObject()
        w.field("error", message)
        w.field("status", status)
        w.endObject()
        return AdminResponse(status: status, body: w.finish())
    }
}

/// A large answer rendered in slices between events, so that no admin answer holds its loop for long.
protocol SlicedBody: AnyObject {
    /// Renders until finished (true) or the clock passes `deadline` (false: call again on a later loop turn).
    func step(until deadline: Nanos) -> Bool
    /// The rendered body, once `step` has returned true.
    func finish() -> OwnedBytes
}
