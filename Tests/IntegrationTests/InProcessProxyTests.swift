// A worker's event loop on its own thread, driven over real loopback sockets: pooling and the idle watch, in-process.
import Foundation
import Logging
import XCTest
import EventLoop
@testable import BerthCore

/// Holds a worker so the loop thread and the test thread can share it; all access to its state goes through the waker.
final class WorkerHandle: @unchecked Sendable {
    let worker: Worker
    let port: Int
    private let done = DispatchSemaphore(value: 0)

    init(configure: (inout BerthConfiguration) -> Void = { _ in }) throws {
        var config = BerthConfiguration(profile: "test", timeouts: Timeouts(connect: .seconds(2), socket: .seconds(5), acquire: .seconds(2)))
        configure(&config)
        worker = Worker(index: 0, configuration: config, logger: Logger(label: "test"))
        port = try worker.listen(on: SocketAddress(numericHost: "127.0.0.1", port: 0)!, reusePort: false).port
        Thread.detachNewThread { [self] in
            worker.run()
            done.signal()
        }
    }

    /// Runs `body` on the loop thread and returns its result.
    func onLoop<T>(_ body: @escaping (Worker) -> T) -> T {
        let answered = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: T?
        worker.waker.post { [worker] in
            result = body(worker)
            answered.signal()
        }
        XCTAssertEqual(answered.wait(timeout: .now() + 10), .success, "the loop did not answer")
        return result!
    }

    func stop() {
        worker.waker.post { [worker] in worker.stop() }
        XCTAssertEqual(done.wait(timeout: .now() + 10), .success, "the loop did not stop")
        worker.teardown()
    }

    func counters(_ port: Int) -> UpstreamCounters? {
        onLoop { $0.manager.existingPool(PoolKey(host: "127.0.0.1", port: port))?.counters }
    }

    func openConnections(_ port: Int) -> Int {
        onLoop { $0.manager.existingPool(PoolKey(host: "127.0.0.1", port: port))?.state.open ?? -1 }
    }
}

/// Collects results from concurrent callers.
private final class Statuses: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [String?] = []
    func add(_ s: String?) { lock.withLock { values.append(s) } }
    var all: [String?] { lock.withLock { values } }
}

final class InProcessProxyTests: XCTestCase {
    /// Should carry a hundred sequential requests, from two callers, over one upstream connection.
    func testSequentialRequestsShareOneUpstreamConnection() throws {
        let origin = try TestOrigin()
        defer { origin.shutdownListener() }
        let handle = try WorkerHandle()
        defer { handle.stop() }
        for callerIndex in 0..<2 {
            let caller = try TestCaller(port: handle.port)
            for i in 0..<50 {
                let r = caller.get("/n\(i)", upstreamPort: origin.port)
                XCTAssertEqual(r?.status, "HTTP/1.1 200 OK", "caller \(callerIndex) request \(i)")
                XCTAssertEqual(r?.body, "ok")
            }
        }
        XCTAssertEqual(origin.accepted, 1)
        let c = try XCTUnwrap(handle.counters(origin.port))
        XCTAssertEqual(c[.opened], 1)
        XCTAssertEqual(c[.reused], 99)
        XCTAssertEqual(c[.requests], 100)
    }

    /// Should never open a third connection with a per-route limit of 2, while ten slow requests wait their turn.
    func testPerRouteLimitMakesSlowRequestsWaitInsteadOfConnecting() throws {
        let origin = try TestOrigin(delay: 0.2)
        defer { origin.shutdownListener() }
        let handle = try WorkerHandle {
            $0.limits.maxPerRoute = 2
            $0.timeouts.acquire = .seconds(20)
        }
        defer { handle.stop() }
        let statuses = Statuses()
        DispatchQueue.concurrentPerform(iterations: 10) { i in
            let caller = try? TestCaller(port: handle.port)
            statuses.add(caller?.get("/slow\(i)", upstreamPort: origin.port)?.status)
        }
        XCTAssertEqual(statuses.all, Array(repeating: "HTTP/1.1 200 OK", count: 10))
        XCTAssertEqual(origin.accepted, 2, "a third connection was never opened")
        XCTAssertLessThanOrEqual(origin.peakConcurrency, 2)
    }

    /// Should answer 503 pool-timeout when no connection frees up within the acquire timeout.
    func testPoolTimeoutAnswers503() throws {
        let origin = try TestOrigin(delay: 2)
        defer { origin.shutdownListener() }
        let handle = try WorkerHandle {
            $0.limits.maxPerRoute = 1
            $0.timeouts.acquire = .milliseconds(200)
        }
        defer { handle.stop() }
        let first = try TestCaller(port: handle.port)
        first.sendGet("/hold", upstreamPort: origin.port)
        Thread.sleep(forTimeInterval: 0.1)
        let second = try TestCaller(port: handle.port)
        let started = Date()
        second.sendGet("/wait", upstreamPort: origin.port)
        let answer = try XCTUnwrap(second.readRaw())
        XCTAssertTrue(answer.head.hasPrefix("HTTP/1.1 503 "), answer.head)
        XCTAssertTrue(answer.head.contains("Berth-Error: pool-timeout\r\n"), answer.head)
        XCTAssertLessThan(Date().timeIntervalSince(started), 1.5, "answered at the acquire timeout, not after the first request")
    }

    /// Should answer 504 read-timeout from an upstream that accepts and never answers, at the socket timeout.
    func testSocketTimeoutAnswers504() throws {
        let origin = try TestOrigin(silent: true)
        defer { origin.shutdownListener() }
        let handle = try WorkerHandle { $0.timeouts.socket = .milliseconds(500) }
        defer { handle.stop() }
        let caller = try TestCaller(port: handle.port)
        let started = Date()
        caller.sendGet("/never", upstreamPort: origin.port)
        let answer = try XCTUnwrap(caller.readRaw())
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertTrue(answer.head.hasPrefix("HTTP/1.1 504 "), answer.head)
        XCTAssertTrue(answer.head.contains("Berth-Error: read-timeout\r\n"), answer.head)
        XCTAssertGreaterThanOrEqual(elapsed, 0.45)
        XCTAssertLessThan(elapsed, 3.0)
    }

    /// Should carry 1 MB request and response bodies byte for byte.
    func testOneMegabyteBodiesArriveByteIdentical() throws {
        let origin = try TestOrigin()
        defer { origin.shutdownListener() }
        let handle = try WorkerHandle()
        defer { handle.stop() }
        var generator = SystemRandomNumberGenerator()
        let body = (0..<(1 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let caller = try TestCaller(port: handle.port)
        let answer = try XCTUnwrap(caller.post("/echo", upstreamPort: origin.port, body: body))
        XCTAssertTrue(answer.head.hasPrefix("HTTP/1.1 200 "), answer.head)
        XCTAssertEqual(answer.body.count, body.count)
        XCTAssertTrue(answer.body == body, "the echoed body differs")
    }

    /// Should notice at once that the upstream closed an idle connection, and open a new one for the next request.
    func testUpstreamCloseOfAnIdleConnectionIsSeenWithoutARequest() throws {
        let origin = try TestOrigin(closeIdleAfter: 0.1)
        defer { origin.shutdownListener() }
        let handle = try WorkerHandle()
        defer { handle.stop() }
        let caller = try TestCaller(port: handle.port)
        XCTAssertEqual(caller.get("/a", upstreamPort: origin.port)?.status, "HTTP/1.1 200 OK")
        let deadline = Date().addingTimeInterval(5)
        while handle.openConnections(origin.port) != 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        XCTAssertEqual(handle.openConnections(origin.port), 0, "the idle watch closed the dead connection")
        XCTAssertEqual(handle.counters(origin.port)?.closedCount(.peerClosedIdle), 1)
        XCTAssertEqual(caller.get("/b", upstreamPort: origin.port)?.status, "HTTP/1.1 200 OK")
        XCTAssertEqual(origin.accepted, 2)
        XCTAssertEqual(handle.counters(origin.port)?[.retries], 0, "nothing failed, so nothing was retried")
    }

    /// Should drop an idle connection whose FIN arrives in the same loop turn as a request, before that request checks out.
    func testAnIdleCloseArrivingWithARequestIsHandledFirst() throws {
        let origin = try TestOrigin()
        defer { origin.shutdownListener() }
        let handle = try WorkerHandle()
        defer { handle.stop() }
        let caller = try TestCaller(port: handle.port)
        XCTAssertEqual(caller.get("/a", upstreamPort: origin.port)?.status, "HTTP/1.1 200 OK")
        // Hold the loop so that the FIN and the next request are both waiting when it wakes.
        let held = DispatchSemaphore(value: 0)
        handle.worker.waker.post {
            held.signal()
            usleep(300_000)
        }
        held.wait()
        // The request becomes readable first, so without priorities epoll would hand it over first.
        caller.sendGet("/b", upstreamPort: origin.port)
        usleep(20_000)
        origin.closeConnections()
        XCTAssertEqual(caller.readResponse()?.status, "HTTP/1.1 200 OK")
        let c = try XCTUnwrap(handle.counters(origin.port))
        XCTAssertEqual(c.closedCount(.peerClosedIdle), 1, "the idle watch saw the close")
        XCTAssertEqual(c[.retries], 0, "the request never went to the dead connection")
        XCTAssertEqual(c[.opened], 2)
    }

    /// Should close the idle connections of a paused upstream and never reuse a connection from before the resume.
    func testPauseClosesIdleAndResumeStartsANewEpoch() throws {
        let origin = try TestOrigin()
        defer { origin.shutdownListener() }
        let handle = try WorkerHandle()
        defer { handle.stop() }
        let caller = try TestCaller(port: handle.port)
        XCTAssertEqual(caller.get("/a", upstreamPort: origin.port)?.status, "HTTP/1.1 200 OK")
        let key = PoolKey(host: "127.0.0.1", port: origin.port)
        // Within the command the connection is out of the pool but its socket waits for the end of the callback;
        // by the next loop turn the posted closes have run.
        let (closed, queued, idle) = handle.onLoop { w in
            let closed = w.manager.pause(key, rejectNew: false, hold: nil, now: MonotonicClock.now()).closedIdle
            return (closed, w.manager.posted.queuedCloses, w.manager.existingPool(key)?.state.idle.count ?? -1)
        }
        XCTAssertEqual(closed, 1)
        XCTAssertEqual(queued, 1)
        XCTAssertEqual(idle, 0)
        XCTAssertEqual(handle.onLoop { $0.manager.posted.queuedCloses }, 0)
        let epoch = handle.onLoop { $0.manager.resume(key, now: MonotonicClock.now()).pools[0].state.epoch }
        XCTAssertEqual(epoch, 2)
        XCTAssertEqual(caller.get("/b", upstreamPort: origin.port)?.status, "HTTP/1.1 200 OK")
        XCTAssertEqual(origin.accepted, 2)
        XCTAssertEqual(handle.counters(origin.port)?.closedCount(.paused), 1)
    }

    /// Should close a paused upstream's sockets before any other callback of the loop runs, even one that became
    /// ready first: the connections left the global count inside the command, so a session running in between could
    /// open new sockets into those slots while the old ones were still open.
    func testBulkClosesRunBeforeOtherReadyCallbacks() throws {
        let origin = try TestOrigin()
        defer { origin.shutdownListener() }
        let handle = try WorkerHandle()
        defer { handle.stop() }
        let caller = try TestCaller(port: handle.port)
        XCTAssertEqual(caller.get("/a", upstreamPort: origin.port)?.status, "HTTP/1.1 200 OK")
        let key = PoolKey(host: "127.0.0.1", port: origin.port)
        let probe = QueueProbe()
        let seen = DispatchSemaphore(value: 0)
        probe.done = { seen.signal() }
        handle.onLoop { w in
            // Ready before the command, at the normal priority, like a caller's request in the same loop turn.
            probe.event = LoopEvent(timerOn: w.base, handler: probe, tag: .timer)
            probe.worker = w
            probe.event?.activate()
            _ = w.manager.pause(key, rejectNew: false, hold: nil, now: MonotonicClock.now())
        }
        XCTAssertEqual(seen.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(probe.queuedWhenRun, 0, "the closes ran after a callback that was ready before them")
        handle.onLoop { _ in probe.event?.free() }
    }
}

/// A normal-priority event that records how many sockets the posted closes still hold when it runs.
private final class QueueProbe: EventHandler, @unchecked Sendable {
    var event: LoopEvent?
    var worker: Worker?
    var queuedWhenRun = -1
    var done: (() -> Void)?

    func handleEvent(_ tag: EventTag, what: Int16) {
        queuedWhenRun = worker?.manager.posted.queuedCloses ?? -1
        done?()
    }
}
