// The admin listener and its connections: parses requests with the same codec, answers through AdminRoutes.
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

    /// Listens on `address`; a Unix socket's file gets `permissions`, its access control.
    init(base: EventBase, address: SocketAddress, permissions: UnixSocketPermissions? = nil, server: BerthServer,
         worker: Worker, workers: [Worker]) throws {
        self.base = base
        self.server = server
        self.worker = worker
        self.workers = workers
        self.address = address
        listener = try Listener(base: base, address: address, reusePort: false, permissions: permissions, keepsSpare: true) { [unowned self] fd in
            // The admin's share of descriptors (DescriptorBudget): past it, a new connection is closed at once.
            guard self.connections.count < DescriptorBudget.adminConnections else {
                Glibc.close(fd)
                return
            }
            let c = AdminConnection(admin: self, fd: fd)
            self.connections[ObjectIdentifier(c)] = c
            c.start()
        }
        self.address = listener.address
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
                    job(w) { result in home.waker.post { box.set(i, result) } }
                }
            }
        }
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

/// One admin client connection, keep-alive, one request at a time.
final class AdminConnection: ChannelDelegate {
    unowned let admin: AdminServer
    let channel: Channel
    private var parser = RequestHeadParser()
    /// Body bytes still to discard (admin endpoints take no body).
    private var discard: UInt64 = 0
    /// A request is being answered (possibly later, for /pause?drain=).
    private var busy = false
    private var closed = false
    /// Admin clients get a generous but finite idle time.
    private let idleTimeout: Nanos = 60 * 1_000_000_000

    init(admin: AdminServer, fd: CInt) {
        self.admin = admin
        channel = Channel(base: admin.base, fd: fd)
        channel.delegate = self
    }

    func start() {
        channel.startReading()
        channel.setTimeout(idleTimeout)
    }

    func channelReadable(_ ch: Channel) {
        switch ch.read() {
        case .data: break
        case .wouldBlock: return
        case .eof, .failed: return close()
        }
        process()
    }

    private func process() {
        while !busy && !closed {
            if discard > 0 {
                let n = min(UInt64(channel.pendingInput), discard)
                channel.drainInput(Int(n))
                discard -= n
                if discard > 0 { return }
            }
            guard let chunk = channel.inputChunk() else { return }
            do {
                switch try parser.parse(chunk) {
                case .needMore:
                    channel.drainInput(chunk.count)
                case .complete(let consumed):
                    channel.drainInput(consumed)
                    let head = parser.head
                    parser.reset()
                    switch head.framing {
                    case .contentLength(let n):
                        guard n <= 1 << 20 else { return reply(AdminResponse.error(413, "admin requests take no body"), keepAlive: false) }
                        discard = n
                    case .chunked:
                        return reply(AdminResponse.error(400, "admin requests take no body"), keepAlive: false)
                    default: break
                    }
                    busy = true
                    let keep = head.keepAlive
                    let mutation = head.method != .get && head.method != .head
                    admin.routes.handle(head) { [weak self] response in
                        if mutation { self?.logMutation(head, status: response.status) }
                        self?.reply(response, keepAlive: keep)
                    }
                }
            } catch {
                return reply(AdminResponse.error(error.status, "\(error)"), keepAlive: false)
            }
        }
    }

    /// Writes the answer; continues with the next request or closes.
    func reply(_ r: AdminResponse, keepAlive: Bool) {
        guard !closed else { return }
        busy = false
        let head = LocalResponse(status: r.status, fields: [("Content-Type", r.contentType), ("Cache-Control", "no-store")] + r.headers,
                                 contentLength: r.bodyCount, keepAlive: keepAlive)
        guard channel.writeInPlace({ HeadSerializer.writeLocalResponse(head, reserve: $0) }) else { return close() }
        if !r.headOnly {
            if let owned = r.owned { channel.writeOwned(owned) } else { channel.write(r.body) }
        }
        guard channel.flush() else { return close() }
        if !keepAlive {
            closing = true
            if channel.pendingOutput == 0 { close() }
            return
        }
        channel.setTimeout(idleTimeout)
        process()
    }

    private var closing = false

    func channelWritable(_ ch: Channel) {
        if ch.writeError != 0 || closing { close() }
    }

    func channelTimedOut(_ ch: Channel) { close() }

    func close() {
        guard !closed else { return }
        closed = true
        channel.close()
        admin.ended(self)
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
