// Tests that the body decoder stops exactly at each message's end and refuses malformed chunk framing.
import XCTest
@testable import HTTP1

final class BodyDecoderTests: XCTestCase {
    func testChunkedBodiesEndExactlyAfterTheirLastCRLF() {
        for body in validChunkedBodies {
            let bytes = [UInt8](body + "GET / HTTP/1.1\r\n")
            XCTAssertEqual(describe(decodeBody(bytes, framing: .chunked)), "ok(\(body.utf8.count), complete: true)", body.debugDescription)
        }
    }

    func testMalformedChunkedBodiesAreRefusedWithTheirExactError() {
        for (body, expected) in invalidChunkedBodies {
            XCTAssertEqual(describe(decodeBody([UInt8](body), framing: .chunked)), "failed(\(expected))", body.debugDescription)
        }
    }

    func testContentLengthBodiesTakeExactlyTheirLength() {
        XCTAssertEqual(describe(decodeBody([UInt8]("helloNEXT"), framing: .contentLength(5))), "ok(5, complete: true)")
        XCTAssertEqual(describe(decodeBody([UInt8]("hel"), framing: .contentLength(5))), "ok(3, complete: false)")
        XCTAssertEqual(describe(decodeBody([UInt8]("NEXT"), framing: .contentLength(0))), "ok(0, complete: true)")
        XCTAssertEqual(describe(decodeBody([UInt8]("NEXT"), framing: .none)), "ok(0, complete: true)")
    }

    func testUntilCloseTakesEverythingAndEndsAtEOF() throws {
        var d = BodyDecoder(framing: .untilClose)
        let n = try [UInt8]("abc").withUnsafeBytes { (b) throws(HTTP1Error) in try d.consume(b) }
        XCTAssertEqual(n, 3)
        XCTAssertFalse(d.isComplete)
        try d.finishAtEOF()
        XCTAssertTrue(d.isComplete)
    }

    func testEOFBeforeTheEndIsATruncatedBody() throws {
        var cl = BodyDecoder(framing: .contentLength(5))
        _ = try [UInt8]("abc").withUnsafeBytes { (b) throws(HTTP1Error) in try cl.consume(b) }
        XCTAssertThrowsError(try cl.finishAtEOF()) { XCTAssertEqual($0 as? HTTP1Error, .truncatedBody) }
        var ch = BodyDecoder(framing: .chunked)
        _ = try [UInt8]("5\r\nab").withUnsafeBytes { (b) throws(HTTP1Error) in try ch.consume(b) }
        XCTAssertThrowsError(try ch.finishAtEOF()) { XCTAssertEqual($0 as? HTTP1Error, .truncatedBody) }
        var done = BodyDecoder(framing: .contentLength(1))
        _ = try [UInt8]("a").withUnsafeBytes { (b) throws(HTTP1Error) in try done.consume(b) }
        XCTAssertNoThrow(try done.finishAtEOF())
    }

    func testAChunkSizeLineSplitInTheMiddleStillParses() {
        let body = [UInt8]("1A;name=val\r\n" + String(repeating: "z", count: 26) + "\r\n0\r\n\r\n")
        XCTAssertEqual(describe(decodeBody(body, framing: .chunked, splits: [1, 1, 3, 2, 8, 1])), "ok(\(body.count), complete: true)")
    }

    /// Should stop before a trailer section with fields when holding trailers, byte by byte as in one run, go on
    /// after `releaseTrailer`, and never stop at a section with no field (hostile1 item 1).
    func testAHeldTrailerStopsBeforeItsFirstField() throws {
        let body = [UInt8]("5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n")
        let prefix = "5\r\nhello\r\n0\r\n".utf8.count
        for step in [1, body.count] {
            var d = BodyDecoder(framing: .chunked)
            d.holdsTrailers = true
            var at = 0
            while at < body.count {
                let piece = Array(body[at..<min(at + step, body.count)])
                let n = try piece.withUnsafeBytes { (b) throws(HTTP1Error) in try d.consume(b) }
                at += n
                if n < piece.count { break }
            }
            XCTAssertEqual(at, prefix, "step \(step)")
            XCTAssertTrue(d.holdsTrailer)
            XCTAssertEqual(try [UInt8]("X").withUnsafeBytes { (b) throws(HTTP1Error) in try d.consume(b) }, 0)
            d.releaseTrailer()
            let rest = Array(body[at...])
            XCTAssertEqual(try rest.withUnsafeBytes { (b) throws(HTTP1Error) in try d.consume(b) }, rest.count)
            XCTAssertTrue(d.isComplete)
        }
        var empty = BodyDecoder(framing: .chunked)
        empty.holdsTrailers = true
        let last = [UInt8]("0\r\n\r\n")
        XCTAssertEqual(try last.withUnsafeBytes { (b) throws(HTTP1Error) in try empty.consume(b) }, last.count)
        XCTAssertTrue(empty.isComplete)
    }
}
