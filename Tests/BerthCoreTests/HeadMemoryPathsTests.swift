// Every way a partial head ends gives back what it took from the worker's --head-memory total, so it never drifts.
import Glibc
import XCTest
@testable import BerthCore

final class HeadMemoryPathsTests: XCTestCase {
    private let start = "GET /run HTTP/1.1\r\nHost: \(EmbeddedSession.upstream)\r\n"
    private let pad = "X-Pad: " + String(repeating: "a", count: 1000) + "\r\n"

    /// The worker's total is the sum of what its sessions hold, at every step (a drift sheds or never sheds).
    private func assertBalanced(_ e: EmbeddedSession, _ step: String, line: UInt = #line) {
        let held = e.worker.sessions.values.reduce(0) { $0 + $1.headHeld }
        XCTAssertEqual(e.worker.headBytes, held, "after \(step)", line: line)
        XCTAssertGreaterThanOrEqual(e.worker.headBytes, 0, "after \(step)", line: line)
    }

    /// A caller that sends part of a head and is left holding it.
    private func partial(_ e: EmbeddedSession, _ text: String) throws -> EmbeddedSession.Caller {
        let c = try EmbeddedSession.Caller(of: e)
        c.sends(text, strict: true)
        c.deliverReadable()
        XCTAssertGreaterThan(c.session.headHeld, 0)
        return c
    }

    /// Should give everything back after a caller's FIN, reset, header timeout, a refused and a too-large head.
    func testEndsOfAPartialHeadGiveItsBytesBack() throws {
        let e = try EmbeddedSession()
        e.callerSends(start)
        e.callerTimesOut()
        XCTAssertTrue(e.callerReceives().hasPrefix("HTTP/1.1 408"))
        assertBalanced(e, "a header timeout")
        let fin = try partial(e, start)
        fin.shutDownWriting()
        fin.deliverReadable()
        assertBalanced(e, "a FIN mid-head")
        let reset = try partial(e, start + "X-A: b")
        reset.close()
        reset.deliverReadable()
        assertBalanced(e, "a caller gone mid-head")
        let big = try partial(e, start)
        for _ in 0..<70 {
            big.sends(pad)
            big.deliverReadable()
        }
        XCTAssertTrue(big.receives().hasPrefix("HTTP/1.1 431"))
        assertBalanced(e, "a head past the header-section limit")
        let bad = try partial(e, start)
        bad.sends("no colon here\r\n")
        bad.deliverReadable()
        XCTAssertTrue(bad.receives().hasPrefix("HTTP/1.1 400"))
        assertBalanced(e, "a head refused as malformed")
        XCTAssertEqual(e.worker.headBytes, 0)
    }

    /// Should give back a head completed over many reads, a CONNECT's, and a pipelined partial head's after a kept
    /// request, when that caller then goes.
    func testCompletedAndPipelinedHeadsGiveTheirBytesBack() throws {
        let e = try EmbeddedSession()
        let many = try partial(e, start)
        for _ in 0..<10 {
            many.sends(pad)
            many.deliverReadable()
            assertBalanced(e, "a read of a long head")
        }
        let connect = try partial(e, "CONNECT \(EmbeddedSession.upstream) HTTP/1.1\r\n")
        connect.sends("Host: \(EmbeddedSession.upstream)\r\n\r\n")
        connect.deliverReadable()
        assertBalanced(e, "a CONNECT head")
        XCTAssertEqual(connect.session.headHeld, 0)
        e.callerSends("GET /a HTTP/1.1\r\nHost: \(EmbeddedSession.upstream)\r\n\r\n" + start + "X-B: c\r\n")
        e.acceptUpstreams()
        XCTAssertTrue(e.upstreamReceives().hasPrefix("GET /a"))
        e.upstreamSends("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        e.first.deliverReadable()
        XCTAssertTrue(e.callerReceives().hasPrefix("HTTP/1.1 200"))
        XCTAssertGreaterThan(e.session.headHeld, 0, "the second head is read and held")
        assertBalanced(e, "a pipelined partial head")
        e.first.close()
        e.first.deliverReadable()
        many.sends("\r\n")
        many.deliverReadable()
        assertBalanced(e, "the long head's end")
        XCTAssertEqual(e.worker.headBytes, 0)
    }

    /// Should give back the heads of sessions closed for room, shed for head-memory, and cut by a drain's timeout.
    func testReclaimShedAndDrainGiveTheirBytesBack() throws {
        let e = try EmbeddedSession { $0.headMemory = 64 << 10 }
        var callers = [e.first!]
        e.first.sends(start, strict: true)
        e.first.deliverReadable()
        for i in 0..<6 { callers.append(try partial(e, start + "X-\(i): v\r\n")) }
        _ = e.worker.reclaimSlot()
        assertBalanced(e, "a reclaim")
        // The share is at least one head at the limits (72 KiB): eight heads of 12 KiB go past it.
        for _ in 0..<8 {
            let c = try partial(e, start)
            for _ in 0..<12 {
                c.sends(pad)
                c.deliverReadable()
            }
            callers.append(c)
        }
        XCTAssertGreaterThanOrEqual(e.worker.counters.failureCount(.headMemory), 1)
        assertBalanced(e, "a head-memory shed")
        var drained = false
        e.worker.beginShutdown(drain: 1_000_000_000) { drained = true }
        assertBalanced(e, "the drain's start")
        e.worker.handleEvent(.wake, what: 0)
        e.loopTurn()
        XCTAssertTrue(drained)
        assertBalanced(e, "the drain's timeout")
        XCTAssertEqual(e.worker.headBytes, 0)
        withExtendedLifetime(callers) {}
    }
}
