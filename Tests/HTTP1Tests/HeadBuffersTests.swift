// The buffers a large head made go back once its message is done; an ordinary head's are kept for the next parse.
import XCTest
@testable import HTTP1

final class HeadBuffersTests: XCTestCase {
    /// `bytes` fed to `parse` in two slices split at `at`; fails unless the head completes in the second.
    func feedTwo(_ bytes: [UInt8], at: Int, _ parse: (UnsafeRawBufferPointer) throws(HTTP1Error) -> HeadParseResult,
                 file: StaticString = #filePath, line: UInt = #line) {
        bytes.withUnsafeBytes { p in
            XCTAssertEqual(try? parse(UnsafeRawBufferPointer(rebasing: p[..<at])), .needMore, file: file, line: line)
            XCTAssertEqual(try? parse(UnsafeRawBufferPointer(rebasing: p[at...])), .complete(consumed: bytes.count - at),
                           file: file, line: line)
        }
    }

    /// A 60 KiB field line that came in two pieces: the carried line, and then the head taken out of the parser.
    func testALargeRequestHeadsBuffersGoBackOnceDone() {
        let big = [UInt8]("GET /x HTTP/1.1\r\nHost: a\r\nX-Big: \(String(repeating: "a", count: 60_000))\r\n\r\n".utf8)
        var p = RequestHeadParser()
        feedTwo(big, at: 30_000) { b throws(HTTP1Error) in try p.parse(b) }
        // The carried line went back as soon as the line was whole.
        XCTAssertLessThanOrEqual(p.lexer.pending.capacity, HeadBuffers.kept)
        var head = RequestHead()
        p.takeHead(into: &head)
        XCTAssertEqual(head.headers.values(named: "x-big").first?.count, 60_000)
        XCTAssertGreaterThan(head.heldCapacity, 60_000)
        head.shedIfLarge()
        XCTAssertLessThanOrEqual(head.heldCapacity, HeadBuffers.kept)
        // The next head parses into the shed buffers as into new ones.
        let small = [UInt8]("GET /y HTTP/1.1\r\nHost: b\r\n\r\n".utf8)
        swap(&head, &p.sink.head)
        feedTwo(small, at: 10) { b throws(HTTP1Error) in try p.parse(b) }
        XCTAssertEqual(p.head.headers.values(named: "host"), ["b"])
    }

    /// An ordinary head's buffers stay, so the next parse allocates nothing.
    func testAnOrdinaryHeadKeepsItsBuffers() {
        let small = [UInt8]("GET /x HTTP/1.1\r\nHost: a\r\nUser-Agent: curl/8\r\nAccept: */*\r\n\r\n".utf8)
        var p = RequestHeadParser()
        feedTwo(small, at: 20) { b throws(HTTP1Error) in try p.parse(b) }
        var head = RequestHead()
        p.takeHead(into: &head)
        let held = head.heldCapacity
        XCTAssertGreaterThan(held, 0)
        head.shedIfLarge()
        XCTAssertEqual(head.heldCapacity, held)
        XCTAssertEqual(head.headers.values(named: "host"), ["a"])
    }

    /// A 60 KiB response head: the parser keeps it until the exchange ends, then gives its buffers back.
    func testALargeResponseHeadsBuffersGoBackOnceDone() {
        let lines = String(repeating: "X-R: \(String(repeating: "r", count: 1_000))\r\n", count: 60)
        let big = [UInt8]("HTTP/1.1 200 OK\r\n\(lines)Content-Length: 0\r\n\r\n".utf8)
        var p = ResponseHeadParser()
        feedTwo(big, at: 30_007) { b throws(HTTP1Error) in try p.parse(b) }
        XCTAssertGreaterThan(p.sink.head.heldCapacity, 60_000)
        p.shedIfLarge()
        XCTAssertLessThanOrEqual(p.lexer.pending.capacity &+ p.sink.head.heldCapacity, HeadBuffers.kept)
        feedTwo([UInt8]("HTTP/1.1 204 No Content\r\n\r\n".utf8), at: 5) { b throws(HTTP1Error) in try p.parse(b) }
        XCTAssertEqual(p.head.status, 204)
    }
}
