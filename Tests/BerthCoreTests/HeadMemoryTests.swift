// The running total of bytes in unfinished request heads (--head-memory): counted, given back, and its victim.
import Glibc
import XCTest
@testable import BerthCore

final class HeadMemoryTests: XCTestCase {
    private let start = "GET /run HTTP/1.1\r\nHost: \(EmbeddedSession.upstream)\r\n"

    /// Should count a head's bytes while it is unfinished and give them back when it completes.
    func testAHeadInPiecesIsCountedUntilItCompletes() throws {
        let e = try EmbeddedSession()
        e.callerSends(start)
        XCTAssertEqual(e.worker.headBytes, start.utf8.count)
        XCTAssertEqual(e.session.headHeld, start.utf8.count)
        e.callerSends("\r\n")
        XCTAssertEqual(e.worker.headBytes, 0, "the head completed")
        XCTAssertEqual(e.session.headHeld, 0)
    }

    /// Should give the bytes back when the caller goes away mid-head, and when the head is refused.
    func testAnAbandonedOrRefusedHeadGivesItsBytesBack() throws {
        let e = try EmbeddedSession()
        let other = try EmbeddedSession.Caller(of: e)
        e.callerSends(start)
        other.sends(start + "Bad Header\r\n")
        other.deliverReadable()
        XCTAssertEqual(e.worker.headBytes, start.utf8.count, "the refused head counts no more")
        XCTAssertTrue(other.receives().hasPrefix("HTTP/1.1 400"))
        e.callerShutsDownWriting()
        XCTAssertEqual(e.worker.headBytes, 0, "a caller gone mid-head holds nothing")
    }

    /// Should answer the caller holding the most, 431 head-memory, when a read takes the total past the budget.
    func testTheBiggestHeadIsAnsweredPastTheBudget() throws {
        let e = try EmbeddedSession { $0.headMemory = 64 << 10 }
        let pad = "X-Pad: " + String(repeating: "a", count: 1000) + "\r\n"
        e.first.sends(start + String(repeating: pad, count: 40), strict: true)
        for _ in 0..<8 { e.first.deliverReadable() }  // a read takes what one buffer holds: bounded, all of it
        let small = try EmbeddedSession.Caller(of: e)
        small.sends(start)
        small.deliverReadable()
        let pushing = try EmbeddedSession.Caller(of: e)
        pushing.sends(start + String(repeating: pad, count: 35))
        for _ in 0..<8 { pushing.deliverReadable() }
        let answer = e.callerReceives()
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 431"), answer)
        XCTAssertTrue(answer.contains("Berth-Error: head-memory"), answer)
        XCTAssertEqual(small.receives(), "")
        XCTAssertEqual(pushing.receives(), "")
        XCTAssertEqual(e.worker.counters.failureCount(.headMemory), 1)
        XCTAssertEqual(e.worker.headBytes, small.session.headHeld + pushing.session.headHeld)
        XCTAssertLessThanOrEqual(e.worker.headBytes, e.worker.settings.headMemory)
    }
}
