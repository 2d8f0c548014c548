// One event loop with its listener, caller sessions, upstream pools and resolver.
import HTTP1
import Glibc
import Logging
import EventLoop

/// A worker: everything on one libevent event_base, touched only from its thread.
final class Worker: EventHandler {
    let index: Int
    let base = EventBase()
    var settings: ProxySettings {
        // Cached routes were checked against the old allowlist.
        didSet {
            routeGeneration += 1
            forward = settings.forward
        }
    }
    /// `settings.forward`, set with it: a stored property without observers, which `withForwardOptions` can pass
    /// in place (inout) to the serializers; read from `settings` the options (two arrays) were copied, retained and
    /// released, per request.
    private(set) var forward: ForwardOptions
    /// The loop's time, read once at the start of each session event (as nginx reads ngx_current_msec once per
    /// loop turn): one clock read per event instead of one per timer, timestamp and pool call.
    private(set) var now: Nanos = MonotonicClock.now()

    /// Reads the clock into `now`; sessions call it first thing in every callback.
    @inline(__always)
    func tick() {
        now = MonotonicClock.now()
    }

    /// Hands `forward` to `body` in place: an inout value is the caller's alone for the call, so the serializers
    /// (`ProxySession.serialize`, `ProxySession.writeResponse`) get the options borrowed, where options read out of
    /// a class (the session, the worker) are copied first, each array in them retained and released.
    @inline(__always)
    func withForwardOptions<R>(_ body: (inout ForwardOptions) -> R) -> R {
        body(&forward)
    }

    /// Bumped whenever cached routes may be wrong.
    private(set) var routeGeneration = 0
    let manager: PoolManager
    /// Where upstream connections go: a destination's Unix socket, or the host's addresses.
    let resolver: UpstreamResolver
    /// Request bodies kept for a replay (`replay: unread`), bounded by this worker's share of --replay-memory.
    let replay: ReplayStore
    var counters = WorkerCounters()
    /// Inside `holdingForAdmin` (AdminHold.swift): a nested call is part of the outer hold.
    var adminHoldDepth = 0
    let logger: Logger
    /// The access log's line buffer, reused line after line.
    private var accessLine = AccessLineWriter()
    private(set) var listener: Listener?
    /// Every listener of the process (proxy and admin): a connect to one of them is a loop. Set once at start.
    var ownListeners = OwnListeners()
    private(set) var sessions: [ObjectIdentifier: ProxySession] = [:]
    /// Bytes this worker's sessions hold in unfinished request heads (`ProxySession.headHeld`), against its share of
    /// --head-memory (`shedHeadMemory`).
    var headBytes = 0
    /// The callers of every worker, against --max-callers (shared by the server's workers).
    let callers: CallerGauge
    /// Sessions that began to linger, oldest first; an entry whose session ended or stopped lingering is skipped.
    private var lingering = FIFOQueue<ObjectIdentifier>()
    /// Sessions in the order they became idle (`sessionIdles`), the oldest first; one found busy when looked at is
    /// dropped, and linked again when it is next idle.
    private var idleCallers = SessionList<IdleLink>()
    /// Sessions holding unfinished head bytes, by size class (`Worker.headClass`), each in the order it reached it.
    var heldHeads = [SessionList<HeadLink>](repeating: SessionList(), count: Worker.headClasses)
    /// The other workers, which may close an idle caller of theirs for one accepted here at the limit (set at start).
    var peers: [PeerWorker] = []
    /// Callers accepted at the limit while the other workers are asked for room, oldest first (`findRoomElsewhere`).
    var awaitingRoom: [CInt] = []
    /// The `/pause?drain=` waits on this worker's pools (DrainWaits.swift).
    var drainWaits: [DrainWait] = []
    /// Connections being opened by /resume?prewarm=, kept alive until they finish.
    var prewarmers: [ObjectIdentifier: Prewarmer] = [:]
    private(set) var isShuttingDown = false
    private var housekeeping: LoopEvent!
    /// How other threads (the admin's worker, tests) reach this loop.
    private(set) var waker: LoopWaker!
    private var drainTimer: LoopEvent?
    /// Hears, once, that this worker's drain is over (its last session ended, or the drain timeout ran out).
    private var whenDrained: (() -> Void)?
    /// How often quiet upstream entries are looked for: a tenth of the 10-minute forget horizon.
    private let housekeepingInterval: Nanos = 60 * 1_000_000_000

    /// Worker `index` of `count`, with its share of the limits; TLS pools take their contexts from `contexts`,
    /// which the server shares among its workers.
    init(index: Int, of count: Int = 1, configuration: BerthConfiguration, logger: Logger, contexts: TLSContexts = TLSContexts(),
         callers: CallerGauge = CallerGauge()) {
        self.index = index
        self.callers = callers
        settings = ProxySettings(configuration, worker: index, of: count)
        forward = settings.forward
        manager = PoolManager(base: base, settings: ManagerSettings(configuration, worker: index, of: count), contexts: contexts)
        resolver = UpstreamResolver(base: base, manager: manager, callers: settings.maxCallers)
        replay = ReplayStore(limit: settings.replayBuffer, capacity: ReplayStore.capacity(settings, worker: index, of: count))
        self.logger = logger
        housekeeping = LoopEvent(timerOn: base, handler: self, tag: .timer)
        housekeeping.add(after: housekeepingInterval)
        waker = LoopWaker(base: base)
        manager.watchDescriptors = DescriptorPlaces(gauge: callers, limit: { [unowned self] in settings.maxCallers })
    }

    /// Starts accepting callers on `address`; a Unix socket's file gets `permissions`, and `shared` says other
    /// workers will accept from it too (`listen(sharing:)`).
    func listen(on address: SocketAddress, reusePort: Bool, permissions: UnixSocketPermissions? = nil, shared: Bool = false) throws -> SocketAddress {
        let l = try Listener(base: base, address: address, reusePort: reusePort, permissions: permissions, shared: shared) { [unowned self] fd in
            self.accept(fd)
        }
        listener = l
        return l.address
    }

    /// Starts accepting callers from `other`'s listening socket too (a Unix socket, which binds only once).
    func listen(sharing other: Worker) throws {
        guard let shared = other.listener else { preconditionFailure("worker \(other.index) is not listening") }
        listener = try Listener(base: base, sharing: shared) { [unowned self] fd in self.accept(fd) }
    }

    private func accept(_ fd: CInt) {
        let limit = settings.maxCallers
        guard callers.take(below: limit) || (reclaimSlot() && callers.take(below: limit)) else { return findRoomElsewhere(fd) }
        admit(fd)
    }

    /// Serves a caller whose place is taken (`callers`).
    func admit(_ fd: CInt) {
        counters[.callersAccepted] &+= 1
        tick()
        adopt(callerFD: fd, counted: true).start()
    }

    /// A session began to linger (its answer sent, reading and dropping its caller's last bytes: up to 2 s, or over an
    /// upload behind an early answer 5 s between reads and 30 s in all, `SessionMachine.lingerGap`).
    func sessionLingers(_ s: ProxySession) {
        lingering.append(ObjectIdentifier(s))
        // Entries of sessions that ended on their own are dropped in bulk once they outnumber the sessions.
        if lingering.count > 2 * sessions.count + 64 {
            var kept = FIFOQueue<ObjectIdentifier>()
            for id in lingering.elements where sessions[id]?.isLingering == true { kept.append(id) }
            lingering = kept
        }
    }

    /// At the caller limit a lingering session of this worker gives way to the new caller, as nginx reuses its connections when it
    /// runs out: its answer has left, and its linger only guards against a reset. Otherwise a flood of bad requests,
    /// each caller then silent, would hold every slot for the linger's 2 s, again and again. False when none lingers.
    private func endOldestLinger() -> Bool {
        // One whose caller still sends over its answer in flight is passed over and kept in line: closing it would
        // reset the answer away. A few such in a row end the look, as in `closeOldestIdle`.
        var guarding: [ObjectIdentifier] = []
        defer { for id in guarding { lingering.append(id) } }
        while guarding.count < 4, let id = lingering.popFirst() {
            guard let s = sessions[id], s.isLingering else { continue }
            if s.lingerGuardsAnswer {
                guarding.append(id)
                continue
            }
            s.endLinger()
            return true
        }
        return false
    }

    /// At the caller limit a session of this worker gives way to the new caller, as nginx closes its "reusable"
    /// connections when it runs out: a lingering one first, else the one idle longest. Sessions of other workers are
    /// reached only on their own loops (`findRoomElsewhere`). False when none gave way; each one that did is counted.
    func reclaimSlot() -> Bool {
        guard endOldestLinger() || closeOldestIdle() else { return false }
        counters[.callersReclaimed] &+= 1
        return true
    }

    /// Closes the session idle longest (connected and silent, or between requests with nothing buffered or owed),
    /// so silent connections cannot hold every slot until their idle timeout (a zero-byte slowloris). A session in
    /// the middle of a request is never closed for this. Off the hot path: it runs only at the limit, and takes the
    /// first of `idleCallers` (a scan of every session per caller made a flood at the limit quadratic: 3,000 callers
    /// at 16,000 idle ones took 3.8 s of the loop). A session found busy (a request under way, output owed, bytes
    /// unread in the kernel) leaves the list, to come back when next idle; a few such in a row end the look.
    private func closeOldestIdle() -> Bool {
        var looked = 0
        while looked < 64, let s = idleCallers.first {
            looked += 1
            idleCallers.remove(s)
            if s.closeIdle() {
                logger.debug("closed an idle caller for a new one at max-callers", metadata: ["idle_ns": "\(now - s.idleSince)"])
                return true
            }
        }
        return false
    }

    /// A session became idle (connected, its exchange over, its output drained between requests): it goes to the end
    /// of `idleCallers`, whose first is the one a caller at the limit closes. O(1) per request, no allocation.
    @inline(__always)
    func sessionIdles(_ s: ProxySession) { idleCallers.moveToEnd(s) }

    /// A caller past this worker's share of --max-callers: answered 503 too-many-callers at once and closed, so it
    /// knows why (a bare close looks like a network fault and invites a retry), and its descriptor is back at once.
    /// One still waiting for room when a drain begins is answered `shutting-down`: that, not the limit, refused it.
    func refuse(_ fd: CInt) {
        let cause: ErrorCause = isShuttingDown ? .shuttingDown : .tooManyCallers
        counters.countFailure(cause)
        let ch = Channel(base: base, fd: fd)
        // What the caller already sent is read first: a close over unread bytes sends a reset, which can destroy the
        // answer before the caller reads it.
        _ = ch.read()
        let detail = isShuttingDown ? "berth is shutting down" : "berth already has its \(settings.maxCallers) callers (max-callers)"
        ErrorResponse.write(status: cause.status, cause: cause, detail: detail, keepAlive: false, headOnly: false, into: ch)
        ch.flush()
        ch.close()
    }

    /// Makes the session for a connected caller socket and keeps it until it ends; `accept`, and the tests that drive
    /// a session event by event (EmbeddedSession), start it.
    func adopt(callerFD fd: CInt, counted: Bool = false) -> ProxySession {
        if !counted { callers.add() }
        let s = ProxySession(worker: self, fd: fd)
        sessions[ObjectIdentifier(s)] = s
        return s
    }

    /// A session closed its caller connection.
    func sessionEnded(_ s: ProxySession) {
        // Out of every list before it leaves the table: the lists' links do not hold it.
        idleCallers.remove(s)
        heldHeads[s.links.headClass].remove(s)
        if sessions.removeValue(forKey: ObjectIdentifier(s)) != nil { callers.release() }
        if isShuttingDown && sessions.isEmpty { drainEnded() }
    }

    /// Callers connected now.
    var callerCount: Int { sessions.count }

    /// Writes the access-log line for the session's current exchange when enabled: rendered into the worker's one
    /// line buffer and written to stderr in one write(2) (`StderrWriter`), so lines from several workers never interleave. It does
    /// not go through the logger: `--access-log` asks for every line whatever `log-level` says, as nginx's
    /// access_log is apart from its error_log. The exchange ended at the session event's time (`now`).
    /// Fast path: the off test is in line at the caller (the log is off unless asked for, and its call cost ~19
    /// instructions per request); the line is written out of line.
    @inline(__always)
    func accessLog(_ s: ProxySession) {
        guard let format = settings.accessLog else { return }
        writeAccessLine(s, format: format)
    }

    /// `accessLog` when the log is on.
    @inline(never)
    private func writeAccessLine(_ s: ProxySession, format: LogFormat) {
        AccessField.line(s.exchange, now: now, format: format, label: logger.label, into: &accessLine) { line in
            // A log that cannot take the line now (closed, full) loses it; the request is not held for it.
            StderrWriter.write(line)
        }
    }

    /// Renders the session's exchange's line into `line` when the log is on, to be written once its answer has left
    /// (`HeldAccessLine`).
    func holdAccessLine(_ s: ProxySession, into line: inout HeldAccessLine) {
        guard let format = settings.accessLog else { return line.bytes.removeAll(keepingCapacity: true) }
        line.hold(s.exchange, now: now, format: format, label: logger.label, using: &accessLine)
    }

    /// Writes a held line now, `cut` as its `berth_error` if its answer never all left.
    func writeHeldLine(_ line: borrowing HeldAccessLine, cut: ErrorCause?) {
        guard settings.accessLog != nil, !line.bytes.isEmpty else { return }
        line.written(cut: cut, now: now, using: &accessLine) { StderrWriter.write($0) }
    }

    /// Stops accepting and closes idle callers and pooled connections; every request already accepted (in flight,
    /// queued for a connection, held by a pause) goes on being served, its caller closed after its response, for up
    /// to `drain`. `whenDrained` hears when that is over; the loop keeps running (the admin, other workers' commands)
    /// until the server stops it.
    func beginShutdown(drain: Nanos, whenDrained: @escaping () -> Void) {
        guard !isShuttingDown else { return }
        isShuttingDown = true
        self.whenDrained = whenDrained
        listener?.close()
        listener = nil
        refuseAwaitingRoom()
        // A session between requests may still owe its caller the tail of the last response (buffered for a slow
        // reader): it closes once that has gone out, within the drain, as a session that finishes its exchange now does.
        // One with a pipelined request already buffered serves it first, its answer saying close (`endExchange`).
        // One that sent only empty lines since its last request has begun none, and closes too.
        // A CONNECT still waiting for its connection is answered now: berth opens no tunnel it would have to cut.
        for s in Array(sessions.values) {
            if s.isIdle && !s.owesPipelined {
                s.closeAfterFlush()
            } else if s.isTunnelWaiting {
                s.answerShuttingDownBeforeItLeft()
            } else {
                _ = s.closedWithNoRequestAtDrain()
            }
        }
        manager.closeAllIdle()
        if sessions.isEmpty { return drainEnded() }
        let t = LoopEvent(timerOn: base, handler: self, tag: .wake)
        t.add(after: drain)
        drainTimer = t
    }

    /// The drain is over: tells the server, once.
    private func drainEnded() {
        guard let done = whenDrained else { return }
        whenDrained = nil
        done()
    }

    func handleEvent(_ tag: EventTag, what: Int16) {
        switch tag {
        case .timer:
            let forgotten = manager.forgetQuiet(now: MonotonicClock.now())
            if forgotten > 0 { logger.debug("forgot quiet upstreams", metadata: ["count": "\(forgotten)"]) }
            housekeeping.add(after: housekeepingInterval)
        case .wake:
            logger.warning("drain timeout: closing remaining connections", metadata: ["sessions": "\(sessions.count)"])
            // A request that never left berth (queued, held by a pause that did not lift, waiting for its name's
            // lookup, or for its connection) is answered, so its caller knows it may send it elsewhere; the others
            // are cut, visibly where a response was under way.
            for s in Array(sessions.values) {
                if s.hasNotLeft { s.answerShuttingDownBeforeItLeft() } else { s.cutAtDrainEnd() }
            }
            drainEnded()
        default:
            break
        }
    }

    /// Runs the loop until shutdown.
    func run() {
        base.run()
    }

    /// Ends `run()` at once; call on the loop's thread (from another thread, through `waker.post`).
    func stop() {
        base.stop()
    }

    /// Frees every C object the worker owns.
    func teardown() {
        refuseAwaitingRoom()
        for s in Array(sessions.values) { s.close() }
        manager.closeAllIdle()
        manager.freezer?.close()
        manager.posted.free()
        listener?.close()
        housekeeping.free()
        drainTimer?.free()
        waker.close()
        resolver.shutdown()
        base.free()
    }
}
