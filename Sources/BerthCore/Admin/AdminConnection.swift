// One admin client connection: keep-alive, one request answered at a time, pipelined ones served from a loop with a
// budget per event, and not read while its unsent answers sit above the proxy's high-water mark.
import HTTP1
import EventLoop

/// One admin client connection.
final class AdminConnection: ChannelDelegate {
    unowned let admin: AdminServer
    let channel: Channel
    private var parser = RequestHeadParser()
    /// Body bytes still to discard (admin endpoints take no body).
    private var discard: UInt64 = 0
    /// A request is being answered (possibly later, for /pause?drain=).
    private var busy = false
    /// `process` is on the stack: an answer given at once returns to its loop instead of calling it again.
    private var processing = false
    /// The client sent its FIN: what is buffered is still answered, then the connection closes.
    private var inputEnded = false
    /// The last answer said `Connection: close`: the connection ends once it is written.
    private var closing = false
    private var closed = false
    /// The last answer is out and what the client still sends is read and dropped until this time (`linger`).
    private var lingerEnds: Nanos?
    /// The request being answered came in HTTP/1.0: a kept answer says `Connection: keep-alive` (`LocalResponse`).
    private var http10Client = false
    /// Admin clients get a generous but finite idle time.
    private let idleTimeout: Nanos = 60 * 1_000_000_000
    /// Requests one event may answer before the connection yields to the rest of the loop (as ProxySession does).
    static let requestsPerEvent = 16
    /// Longest a sliced answer (/stats) renders in one loop turn before letting the loop's other events run.
    static let sliceTime: Nanos = 500_000
    /// Brings the next slice of a sliced answer or the next chunk of a large body; cancelled (dropping them) when the
    /// connection ends.
    private var sliceTimer: OneShotTimer?
    /// A large body being handed to the socket a chunk at a time: 14 MB given at once was sent in one event for as
    /// long as the client kept reading, ~5 ms at loopback speed.
    private var sending: (body: OwnedBytes, at: Int, keepAlive: Bool)?
    /// Tells the workers holding a wait of this connection's (`/pause?drain=`) that nobody is left to answer.
    private let life = AdminConnectionLife()
    /// Bytes of a large body handed over per loop turn.
    static let bodyChunk = 256 * 1024

    init(admin: AdminServer, fd: CInt) {
        self.admin = admin
        channel = Channel(base: admin.base, fd: fd)
        channel.delegate = self
    }

    /// When the client last sent bytes: at the admin's connection share, the longest-silent one makes room.
    private(set) var lastHeard: Nanos = MonotonicClock.now()
    /// A request is being answered (a `/pause?drain=` waits): such a connection is made room from last.
    var isAnswering: Bool { busy }

    /// Not closed yet: a connection read out of turn to make room (`AdminServer`) may have closed meanwhile.
    var isOpen: Bool { !closed }

    /// Reads and serves what the client sent now, as its readable event would later in this pass: at the admin's
    /// share, bytes waiting in the kernel show the connection is not silent (`AdminServer.quietest`).
    func hearNow() { readable(channel) }

    func start() {
        channel.startReading()
        channel.setTimeout(idleTimeout)
    }

    /// Unsent answers above this stop reading the client: one that does not read cannot make berth buffer without bound.
    private var highWater: Int { admin.worker.settings.highWater }
    /// Unparsed requests above this stop reading too: the budget per event answers fewer than one read may bring.
    private var maxBufferedInput: Int { admin.worker.settings.maxPipelinedInput }

    func channelReadable(_ ch: Channel) { admin.worker.holdingForAdmin { readable(ch) } }

    private func readable(_ ch: Channel) {
        if lingerEnds != nil { return lingerRead(ch) }
        // A yield from `process` (scheduleRead) arrives here too, with requests already buffered: read only while
        // watching the socket and while what is buffered stays under the bound.
        if ch.reading && !inputEnded && ch.pendingInput <= maxBufferedInput {
            switch ch.read() {
            case .data: lastHeard = MonotonicClock.now()
            case .wouldBlock: break
            case .eof:
                inputEnded = true
                ch.stopReading()
            case .failed: return close()
            }
        }
        process()
    }

    /// Answers the buffered requests one after another, up to the budget; the rest waits for the next loop turn, or
    /// for the client to take its answers.
    private func process() {
        guard !processing else { return }
        processing = true
        defer { processing = false }
        var budget = AdminConnection.requestsPerEvent
        while !busy && !closed && !closing {
            guard channel.pendingOutput <= highWater else {
                // channelWritable resumes once the kernel has taken it all.
                channel.stopReading()
                return
            }
            if discard > 0 {
                let n = min(UInt64(channel.pendingInput), discard)
                channel.drainInput(Int(n))
                discard -= n
                if discard > 0 { break }
            }
            guard budget > 0 else {
                channel.yieldRead()
                return
            }
            guard let chunk = channel.inputChunk() else { break }
            budget -= 1
            do {
                switch try parser.parse(chunk) {
                case .needMore:
                    channel.drainInput(chunk.count)
                case .complete(let consumed):
                    channel.drainInput(consumed)
                    let head = parser.head
                    parser.reset()
                    start(head)
                }
            } catch {
                reply(AdminResponse.error(error.status, error.detail), keepAlive: false)
            }
        }
        guard !closed && !closing else { return }
        if inputEnded {
            // A body still owed (`discard`) never comes after the FIN: nothing is left to wait for.
            guard !busy && channel.pendingInput == 0 else { return }
            // Everything the client sent is answered: end once the answers are out.
            closing = true
            if channel.pendingOutput == 0 { close() }
        } else if channel.pendingInput > maxBufferedInput {
            // Waiting on a later answer with much already buffered: that answer's `process` resumes reading.
            channel.stopReading()
        } else {
            channel.startReading()
        }
    }

    /// Routes one parsed request; its answer comes through `reply`, at once or later.
    private func start(_ head: RequestHead) {
        switch head.framing {
        case .contentLength(let n):
            guard n <= 1 << 20 else {
                return reply(AdminResponse.error(413, "admin requests take no body (one over 1 MiB is refused; a smaller one is read and dropped)"),
                             keepAlive: false)
            }
            discard = n
        case .chunked:
            return reply(AdminResponse.error(400, "admin requests take no body (a chunked one is refused)"), keepAlive: false)
        default: break
        }
        busy = true
        // What follows a CONNECT is a tunnel's bytes, never admin requests: its refusal ends the connection.
        let keep = head.keepAlive && head.method != .connect
        http10Client = head.version == .http10
        let mutation = head.method != .get && head.method != .head
        let headOnly = head.method == .head
        admin.routes.handle(head, life: life) { [weak self] response in
            if mutation { self?.logMutation(head, status: response.status) }
            // No answer to a HEAD has content, an error's included (RFC 9110 9.3.2): its client reads none, and would
            // take the bytes for the start of its next answer.
            var response = response
            if headOnly { response.headOnly = true }
            self?.reply(response, keepAlive: keep)
        }
    }

    /// Writes the answer. Given inside `process`, its loop carries on; given later (a /pause with drain=), it starts
    /// `process` again from this event, never from inside itself.
    func reply(_ r: AdminResponse, keepAlive: Bool) {
        guard !closed else { return }
        if let body = r.sliced {
            var rest = r
            rest.sliced = nil
            // The work that made the answer (the pick, the document's head) has just held the loop: the first slice
            // waits for the next turn, as the others do.
            return nextSlice(body, rest, keepAlive: keepAlive)
        }
        busy = false
        var head = LocalResponse(status: r.status, fields: [("Content-Type", r.contentType), ("Cache-Control", "no-store")] + r.headers,
                                 contentLength: r.bodyCount, keepAlive: keepAlive)
        head.http10Caller = http10Client
        guard channel.writeInPlace({ HeadSerializer.writeLocalResponse(head, reserve: $0) }) else { return close() }
        if !r.headOnly {
            if let owned = r.owned, owned.count > AdminConnection.bodyChunk {
                busy = true
                sending = (owned, 0, keepAlive)
                return sendChunk()
            }
            if let owned = r.owned { channel.writeOwned(owned) } else { channel.write(r.body) }
        }
        finishReply(keepAlive: keepAlive)
    }

    /// The answer is all in the output: send it, then close or serve what waits.
    private func finishReply(keepAlive: Bool) {
        guard channel.flush() else { return close() }
        if !keepAlive {
            closing = true
            channel.stopReading()
            if channel.pendingOutput == 0 { endAnswered() }
            return
        }
        armIdle()
        process()
    }

    /// Renders one slice of `body`; the next waits for the next loop turn, after the events already waiting (a zero
    /// timer fires after the I/O that is ready), so proxied requests on this loop wait at most one slice.
    private func renderSlice(_ body: SlicedBody, _ r: AdminResponse, keepAlive: Bool) {
        sliceTimer = nil
        guard !closed else { return }
        if body.step(until: MonotonicClock.now() + AdminConnection.sliceTime) {
            var done = r
            done.owned = body.finish()
            return reply(done, keepAlive: keepAlive)
        }
        nextSlice(body, r, keepAlive: keepAlive)
    }

    /// Renders the next slice of `body` on a later loop turn.
    private func nextSlice(_ body: SlicedBody, _ r: AdminResponse, keepAlive: Bool) {
        let next = OneShotTimer(base: admin.base) { [weak self] in
            guard let self else { return }
            admin.worker.holdingForAdmin { self.renderSlice(body, r, keepAlive: keepAlive) }
        }
        sliceTimer = next
        next.start(after: 0)
    }

    /// Hands the next chunk of a large body over; the one after comes when the kernel has taken it
    /// (`channelWritable`), or on the next loop turn if it took it at once.
    private func sendChunk() {
        sliceTimer = nil
        guard !closed, let s = sending else { return }
        let n = min(AdminConnection.bodyChunk, s.body.count - s.at)
        channel.write(UnsafeRawBufferPointer(start: s.body.base + s.at, count: n))
        if s.at + n == s.body.count {
            sending = nil
            busy = false
            return finishReply(keepAlive: s.keepAlive)
        }
        sending?.at = s.at + n
        // A client that reads slowly but steadily is not idle.
        armIdle()
        guard channel.flush() else { return close() }
        if channel.pendingOutput == 0 {
            let next = OneShotTimer(base: admin.base) { [weak self] in
                guard let self else { return }
                admin.worker.holdingForAdmin { self.sendChunk() }
            }
            sliceTimer = next
            next.start(after: 0)
        }
    }

    /// Output held back by the kernel is all written: end a closing connection, else carry on with a large body or
    /// serve what waits.
    func channelWritable(_ ch: Channel) { admin.worker.holdingForAdmin { writable(ch) } }

    private func writable(_ ch: Channel) {
        if ch.writeError != 0 { return close() }
        if closing { return endAnswered() }
        if sending != nil { return sendChunk() }
        process()
    }

    /// A client taking a large answer slowly but steadily is not idle: each byte the kernel takes moves the timeout on.
    func channelWriteProgress(_ ch: Channel) { armIdle() }

    /// Starts the idle timeout again, noting what the kernel still holds for the client: a client draining a deep
    /// send queue slowly shows its progress there, not in berth's own output.
    private func armIdle() {
        channel.setTimeout(idleTimeout)
        unacknowledgedAtArm = channel.unacknowledgedOutput
    }

    /// Bytes a client must take of its answers within an idle timeout to count as reading (~1 KiB/s).
    static let steadyReader = 64 * 1024
    /// The kernel's and berth's unsent bytes for the client when the idle timeout was last started.
    private var unacknowledgedAtArm = 0

    /// The idle timeout is for a silent client: one waiting on berth's own later answer (a /pause with a drain longer
    /// than it) keeps its connection, and the timeout starts again; so does one that took 64 KiB of its answers since.
    /// One that has taken less in that time is not waiting on berth: it ends, and the answer held
    /// for it with it (nginx's send_timeout). Before, a large answer being handed over counted as berth's work.
    func channelTimedOut(_ ch: Channel) {
        if lingerEnds != nil { return admin.worker.holdingForAdmin { close() } }
        if busy && sending == nil && ch.pendingOutput == 0 { return ch.setTimeout(idleTimeout) }
        let unacknowledged = ch.unacknowledgedOutput
        // Some progress, not a window update's trailing kilobytes: at least 64 KiB taken in the timeout (~1 KiB/s).
        if unacknowledged > 0 && unacknowledged <= unacknowledgedAtArm - AdminConnection.steadyReader { return armIdle() }
        admin.worker.holdingForAdmin { close() }
    }

    /// The last answer is out: the connection ends. While its client may still be sending (an error answered before
    /// the request was read whole: a body over 1 MiB, a head over the limits; a request pipelined behind a close), a
    /// close over unread bytes sends a reset, which broke the write of a client that reads only once its request is
    /// written (Python's http.client), so it never saw the answer, or destroys the answer in its kernel (adv9). berth
    /// sends its FIN and reads what comes away, until the client's FIN, `SessionMachine.lingerLimit` between reads
    /// or `lingerTime` in all, as the proxy lingers (`ProxySession.linger`) and nginx's lingering close does.
    private func endAnswered() {
        guard !closed else { return }
        guard !inputEnded, lingerEnds == nil else { return close() }
        let now = MonotonicClock.now()
        lingerEnds = now + SessionMachine.lingerTime
        discard = 0
        channel.discardInput()
        channel.shutdownWrite()
        channel.setTimeout(SessionMachine.lingerLimit, now: now)
        channel.startReading()
    }

    /// One read of a lingering connection: dropped; the client's FIN, an error or the linger's end closes it.
    private func lingerRead(_ ch: Channel) {
        switch ch.read() {
        case .data:
            ch.discardInput()
            let now = MonotonicClock.now()
            guard let ends = lingerEnds, now < ends else { return close() }
            ch.setTimeout(min(SessionMachine.lingerLimit, ends - now), now: now)
        case .wouldBlock: break
        case .eof, .failed: close()
        }
    }

    func close() {
        guard !closed else { return }
        closed = true
        // A /pause?drain= of this connection's still waiting on the workers is dropped by the next one registered.
        life.end()
        // A half-rendered answer goes with its client: the timer holds the only reference to it.
        sliceTimer?.cancel()
        sliceTimer = nil
        sending = nil
        channel.close()
        admin.ended(self)
    }
}
