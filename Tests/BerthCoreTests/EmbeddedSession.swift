// A whole ProxySession driven event by event with no loop running (swift-nio's EmbeddedChannel in spirit): the test is the loop.
import Glibc
import Logging
import XCTest
import EventLoop
@testable import BerthCore

/// One caller session of a real Worker, its caller and its upstream connections made of socket pairs and a Unix
/// socket in a temporary directory, so no byte leaves the machine's memory and no port is used. Nothing runs the
/// event loop: the test writes bytes to the far ends, then hands the session the event a loop would have delivered
/// (`callerReadable`, `upstreamReadable`, `callerTimesOut`, ...), and reads what came out, in one thread, in order.
/// Upstream connects finish at once (a Unix socket connects or fails in the call), so routing, checkout, connect,
/// relay, release, answers and retries all run for real.
final class EmbeddedSession {
    let worker: Worker
    /// The first caller; the `caller...` methods act on it (`Caller` adds more callers of the same worker).
    private(set) var first: Caller!
    var session: ProxySession { first.session }
    /// The upstream's listening socket and the connections berth opened to it, oldest first.
    private let listener: CInt
    private let socketFile: UnixSocketFile?
    private(set) var upstreamEnds: [CInt] = []
    let directory: String
    /// The upstream's name in requests (`Host: fn:80`), sent to the Unix socket by a destination entry.
    static let upstream = "fn:80"

    init(listening: Bool = true, configure: (inout BerthConfiguration) -> Void = { _ in }) throws {
        var template = Array("/tmp/berth-embedded-XXXXXX".utf8CString)
        guard let dir = mkdtemp(&template) else { throw POSIXError(.init(rawValue: errno)!) }
        directory = String(cString: dir)
        let path = directory + "/upstream.sock"
        var config = BerthConfiguration(profile: "test", timeouts: Timeouts(connect: .seconds(2), socket: .seconds(5), acquire: .seconds(2)))
        var d = DestinationOverride(match: EmbeddedSession.upstream)
        d.unixSocket = path
        config.destinations = [d]
        configure(&config)
        if listening {
            (listener, socketFile) = try UnixSocketFile.listen(SocketAddress(unixPath: path)!,
                                                               permissions: UnixSocketPermissions(mode: 0o600), backlog: 16)
        } else {
            (listener, socketFile) = (-1, nil)
        }
        worker = Worker(index: 0, configuration: config, logger: Logger(label: "embedded"))
        first = try Caller(of: self)
    }

    deinit {
        first = nil
        worker.teardown()
        for fd in upstreamEnds + [listener] where fd >= 0 { Glibc.close(fd) }
        socketFile?.remove()
        rmdir(directory)
    }

    // MARK: the first caller

    /// The caller sends `text`; the session hears its read event.
    func callerSends(_ text: String) {
        first.sends(text, strict: true)
        first.deliverReadable()
    }

    /// Everything berth has sent the caller since the last call.
    func callerReceives() -> String { first.receives() }

    /// The caller closes its sending side (FIN after its request); the session hears it.
    func callerShutsDownWriting() {
        first.shutDownWriting()
        first.deliverReadable()
    }

    /// Whether berth closed the caller connection (its end reads EOF).
    var callerClosedByBerth: Bool { first.closedByBerth }

    /// The caller's timer fires.
    func callerTimesOut() {
        polled()
        session.channelTimedOut(session.caller)
        eventDelivered()
    }

    // MARK: the upstream's side

    /// Takes the connections berth opened to the upstream since the last call.
    @discardableResult
    func acceptUpstreams() -> Int {
        var n = 0
        guard listener >= 0 else { return 0 }
        while let fd = try? Socket.accept(listener) {
            upstreamEnds.append(fd)
            n += 1
        }
        return n
    }

    /// What upstream connection `i` received since the last call.
    func upstreamReceives(_ i: Int = 0) -> String {
        guard i < upstreamEnds.count else {
            XCTFail("berth opened \(upstreamEnds.count) upstream connections, not \(i + 1)")
            return ""
        }
        return EmbeddedSession.readAll(upstreamEnds[i])
    }

    /// Upstream connection `i` sends `text`; the first caller's session hears a read event on its connection.
    func upstreamSends(_ text: String, on i: Int = 0) {
        EmbeddedSession.write(upstreamEnds[i], text)
        first.deliverUpstreamReadable()
    }

    /// Upstream connection `i` closes; the first caller's session hears it (an idle one: `idleUpstreamsReadable`).
    func upstreamCloses(_ i: Int = 0) {
        closeUpstreamEnd(i)
        first.deliverUpstreamReadable()
    }

    /// Closes the upstream's end of connection `i`, telling no one.
    func closeUpstreamEnd(_ i: Int) {
        Glibc.close(upstreamEnds[i])
        upstreamEnds[i] = -1
    }

    /// Every idle pooled connection hears a read event (a loop delivers one when a server closes an idle connection).
    func idleUpstreamsReadable() {
        polled()
        for idle in pool?.state.idle ?? [] { idle.conn.channel.delegate?.channelReadable(idle.conn.channel) }
        eventDelivered()
    }

    /// The first caller's upstream socket timeout fires.
    func upstreamTimesOut() { first.deliverUpstreamTimeout() }

    /// What a loop does once the running callback has returned: runs the posted work (deferred closes, then the
    /// pools' hand-offs to waiting sessions), all of it.
    func loopTurn() { worker.manager.posted.runTurn(budget: .max) }

    /// Whether each event the test delivers is followed by a loop turn, as on a running loop. Off, the test takes the
    /// turns itself (`loopTurn`), so that what a callback posted can be seen before it is delivered.
    var turnsAfterEachEvent = true

    /// The loop polled: what comes next is a new pass (`LoopPass`), as each event a test delivers follows a poll; the
    /// posted work a test runs itself (`loopTurn`) stays in the pass of the event before it, as on a running loop.
    fileprivate func polled() { worker.base.pass.ended() }

    /// A loop turn after an event, unless the test takes the turns itself.
    fileprivate func eventDelivered() { if turnsAfterEachEvent { loopTurn() } }

    /// The pool of the embedded upstream, once a request made it.
    var pool: Upstream? { worker.manager.existingPool(PoolKey(host: "fn", port: 80)) }

    /// A caller of the worker: its session and the test's end of its socket pair.
    final class Caller {
        let session: ProxySession
        private var end: CInt
        /// The test's loop, for the turn after each event.
        private unowned let embedded: EmbeddedSession

        init(of e: EmbeddedSession) throws {
            embedded = e
            var fds: [CInt] = [0, 0]
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0, &fds) == 0 else {
                throw POSIXError(.init(rawValue: errno)!)
            }
            end = fds[1]
            e.worker.tick()
            session = e.worker.adopt(callerFD: fds[0])
            session.start()
        }

        deinit { if end >= 0 { Glibc.close(end) } }

        /// Writes `text` without telling the session yet; `strict` fails the test unless all of it was taken.
        func sends(_ text: String, strict: Bool = false) { EmbeddedSession.write(end, text, strict: strict) }
        /// Everything berth has sent this caller since the last call.
        func receives() -> String { EmbeddedSession.readAll(end) }
        /// Closes the caller's sending side (FIN), telling no one.
        func shutDownWriting() { shutdown(end, Int32(SHUT_WR)) }
        /// Whether berth closed the connection (the caller's end reads EOF).
        var closedByBerth: Bool {
            var b: UInt8 = 0
            return recv(end, &b, 1, Int32(MSG_PEEK)) == 0
        }
        /// The caller goes away; what it sent is still buffered for berth to read.
        func close() {
            Glibc.close(end)
            end = -1
        }
        /// The session hears its caller's read event.
        func deliverReadable() {
            embedded.polled()
            session.channelReadable(session.caller)
            embedded.eventDelivered()
        }
        /// The session's upstream channel, if it relays over one, hears a read event.
        func deliverUpstreamReadable() {
            embedded.polled()
            if let ch = session.machine.state.connection?.channel { session.channelReadable(ch) }
            embedded.eventDelivered()
        }
        /// The session's upstream socket timeout fires, if it relays.
        func deliverUpstreamTimeout() {
            embedded.polled()
            if let ch = session.machine.state.connection?.channel { session.channelTimedOut(ch) }
            embedded.eventDelivered()
        }
        /// The connect in progress, if any, hears its socket's write event (its outcome); a refused loopback connect
        /// has its answer within a few milliseconds, so this waits for the socket to say, boundedly.
        func deliverConnectOutcome() {
            guard let ch = session.connector?.channelInProgress else { return }
            var p = pollfd(fd: ch.fd, events: Int16(POLLOUT), revents: 0)
            _ = poll(&p, 1, 5_000)
            embedded.polled()
            ch.handleEvent(.write, what: 0x04)  // EV_WRITE
            embedded.eventDelivered()
        }
    }

    // MARK: bytes

    /// Writes `text` to `fd`; with `strict`, a short or failed write fails the test (the far end must be open).
    static func write(_ fd: CInt, _ text: String, strict: Bool = true) {
        let bytes = Array(text.utf8)
        let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if strict { XCTAssertEqual(n, bytes.count, "a socket pair takes a whole test message at once") }
    }

    static func readAll(_ fd: CInt) -> String {
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n <= 0 { break }
            out += buf[0..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }
}
