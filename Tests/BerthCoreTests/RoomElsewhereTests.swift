// Cross-worker room at --max-callers (Worker.findRoomElsewhere), its posted jobs run by hand: what the waiting caller gets.
import Glibc
import Logging
import XCTest
import EventLoop
@testable import BerthCore

final class RoomElsewhereTests: XCTestCase {
    private var ends: [CInt] = []

    override func tearDown() {
        for fd in ends { Glibc.close(fd) }
        ends = []
    }

    /// Two workers sharing one caller gauge at `limit`, each the other's peer; no loop runs.
    private func pair(limit: Int) -> (Worker, Worker, CallerGauge) {
        var config = BerthConfiguration(profile: "test", timeouts: Timeouts(connect: .seconds(2), socket: .seconds(5), acquire: .seconds(2)))
        config.limits.maxCallers = limit
        let gauge = CallerGauge()
        let a = Worker(index: 0, of: 2, configuration: config, logger: Logger(label: "a"), callers: gauge)
        let b = Worker(index: 1, of: 2, configuration: config, logger: Logger(label: "b"), callers: gauge)
        a.peers = [PeerWorker(worker: b)]
        b.peers = [PeerWorker(worker: a)]
        return (a, b, gauge)
    }

    /// The berth end of a new caller's socket pair (the test keeps the other end).
    private func callerFD() throws -> CInt {
        var fds: [CInt] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0, &fds) == 0 else {
            throw POSIXError(.init(rawValue: errno)!)
        }
        ends.append(fds[1])
        return fds[0]
    }

    /// Should admit a waiting caller when a place came free while the other worker was asked, even though that
    /// worker had no caller to close: the limit is the gauge's, whoever freed the place (before: 503 with room).
    func testAPlaceFreedMeanwhileAdmitsTheWaitingCaller() throws {
        let (a, b, gauge) = pair(limit: 2)
        defer { a.teardown(); b.teardown() }
        gauge.add()
        gauge.add()  // two callers mid-request elsewhere: nobody may give way
        a.findRoomElsewhere(try callerFD())
        XCTAssertEqual(a.awaitingRoom.count, 1)
        b.waker.handleEvent(.wake, what: 0)  // b has none to close, and says so
        gauge.release()  // one of the two callers ends meanwhile
        a.waker.handleEvent(.wake, what: 0)
        XCTAssertEqual(a.awaitingRoom.count, 0)
        XCTAssertEqual(a.counters.failureCount(.tooManyCallers), 0, "refused although a place was free")
        XCTAssertEqual(a.callerCount, 1)
        XCTAssertEqual(gauge.value, 2)
    }

    /// Should refuse the waiting caller, once, when no worker can give way and no place comes free.
    func testNoRoomAnywhereRefusesTheWaitingCaller() throws {
        let (a, b, gauge) = pair(limit: 2)
        defer { a.teardown(); b.teardown() }
        gauge.add()
        gauge.add()
        a.findRoomElsewhere(try callerFD())
        b.waker.handleEvent(.wake, what: 0)
        a.waker.handleEvent(.wake, what: 0)
        XCTAssertEqual(a.awaitingRoom.count, 0)
        XCTAssertEqual(a.counters.failureCount(.tooManyCallers), 1)
        XCTAssertEqual(a.callerCount, 0)
        XCTAssertEqual(gauge.value, 2)
    }

    /// Should refuse the waiting callers at a drain as `shutting-down` (what happened; not `too-many-callers`, which
    /// would send them to look for room berth will never have), and ignore the other worker's late answer.
    func testADrainRefusesTheWaitingCallersAsShuttingDownAndIgnoresLateAnswers() throws {
        let (a, b, gauge) = pair(limit: 2)
        defer { a.teardown(); b.teardown() }
        gauge.add()
        gauge.add()
        a.findRoomElsewhere(try callerFD())
        let callerEnd = ends[ends.count - 1]
        a.beginShutdown(drain: 1_000_000_000) {}
        XCTAssertEqual(a.counters.failureCount(.shuttingDown), 1)
        XCTAssertEqual(a.counters.failureCount(.tooManyCallers), 0)
        XCTAssertTrue(answer(on: callerEnd).contains("Berth-Error: shutting-down"), answer(on: callerEnd))
        gauge.release()
        b.waker.handleEvent(.wake, what: 0)
        a.waker.handleEvent(.wake, what: 0)
        XCTAssertEqual(a.callerCount, 0)
        XCTAssertEqual(a.counters.failureCount(.shuttingDown), 1)
        XCTAssertEqual(a.counters.failureCount(.tooManyCallers), 0)
        XCTAssertEqual(gauge.value, 1)
    }

    /// What berth wrote to the caller's end `fd` so far (nonblocking: what is there now).
    private func answer(on fd: CInt) -> String {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        return n > 0 ? String(decoding: buffer[..<n], as: UTF8.self) : ""
    }
}
