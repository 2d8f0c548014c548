// A worker's event loop on its own thread, driven over real loopback sockets: pooling and the idle watch, in-process.
import Foundation
import Logging
import XCTest
@testable import BerthCore

/// Holds a worker so the loop thread and the test thread can share it; all access to its state goes through the waker.
private final class WorkerHandle: @unchecked Sendable {
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

final class InProcessProxyTests: XCTestCase {
    /// Should carry fifty sequential requests, from two callers, over one upstream connection.
    func testSequentialRequestsShareOneUpstreamConnection() throws {
        let origin = try TestOrigin()
        defer { origin.shutdownListener() }
        let handle = try WorkerHandle()
        defer { handle.stop() }
        for callerIndex in 0..<2 {
            let caller = try TestCaller(port: handle.port)
            for i in 0..<25 {
                let r = caller.get("/n\(i)", upstreamPort: origin.port)
                XCTAssertEqual(r?.status, "HTTP/1.1 200 OK", "caller \(callerIndex) request \(i)")
                XCTAssertEqual(r?.body, "ok")
            }
        }
        XCTAssertEqual(origin.accepted, 1)
        let c = try XCTUnwrap(handle.counters(origin.port))
        XCTAssertEqual(c.opened, 1)
        XCTAssertEqual(c.reused, 49)
        XCTAssertEqual(c.requests, 50)
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
        XCTAssertEqual(handle.counters(origin.port)?.retries, 0, "nothing failed, so nothing was retried")
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
        XCTAssertEqual(c.retries, 0, "the request never went to the dead connection")
        XCTAssertEqual(c.opened, 2)
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
        let closed = handle.onLoop { $0.manager.pause(key, rejectNew: false, hold: nil, now: MonotonicClock.now()).closedIdle }
        XCTAssertEqual(closed, 1)
        let epoch = handle.onLoop { $0.manager.resume(key, now: MonotonicClock.now()).pool.state.epoch }
        XCTAssertEqual(epoch, 2)
        XCTAssertEqual(caller.get("/b", upstreamPort: origin.port)?.status, "HTTP/1.1 200 OK")
        XCTAssertEqual(origin.accepted, 2)
        XCTAssertEqual(handle.counters(origin.port)?.closedCount(.paused), 1)
    }
}
