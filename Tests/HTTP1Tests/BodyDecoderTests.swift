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

    /// The bytes of `body` a holding decoder consumes, fed in `step`-byte pieces, up to where it stops.
    func consumedUntilHeld(_ d: inout BodyDecoder, _ body: [UInt8], from start: Int = 0, step: Int) throws -> Int {
        var at = start
        while at < body.count && !d.isComplete {
            let piece = Array(body[at..<min(at + step, body.count)])
            let n = try piece.withUnsafeBytes { (b) throws(HTTP1Error) in try d.consume(b) }
            at += n
            if n < piece.count { break }
        }
        return at
    }

    /// Should stop before the last chunk when holding it, at any split, and give it back only with its whole
    /// trailer section; a cut anywhere in it leaves the last chunk unconsumed (a relay then shows a missing last
    /// chunk).
    func testAHeldLastChunkGoesOnlyWithItsWholeSection() throws {
        let body = [UInt8]("5\r\nhello\r\n0;e=1\r\nX-T: 1\r\n\r\n")
        let prefix = "5\r\nhello\r\n".utf8.count
        for step in [1, 2, body.count] {
            var d = BodyDecoder(framing: .chunked)
            d.holdsLastChunk = true
            XCTAssertEqual(try consumedUntilHeld(&d, body, step: step), prefix, "step \(step)")
            XCTAssertTrue(d.isHoldingLastChunk)
            XCTAssertEqual(try [UInt8]("0").withUnsafeBytes { (b) throws(HTTP1Error) in try d.consume(b) }, 0)
            let rest = Array(body[prefix...])
            for cut in 0..<rest.count {
                var copy = d
                let part = Array(rest[..<cut])
                XCTAssertEqual(try part.withUnsafeBytes { (b) throws(HTTP1Error) in try copy.takeHeldLine(b) }, .needMore, "cut \(cut)")
                XCTAssertTrue(copy.isHoldingLastChunk)
            }
            XCTAssertEqual(try rest.withUnsafeBytes { (b) throws(HTTP1Error) in try d.takeHeldLine(b) }, .lastChunk(bytes: rest.count))
            XCTAssertTrue(d.isComplete)
        }
    }

    /// Should take a size with leading zeros for an ordinary chunk: unheld when its digits are all in the run, and
    /// when they are not (the run ends in zeros), held, then given back as a chunk whose line alone goes; the decoder
    /// reads its data and holds the next line that may be the last chunk.
    func testASizeWithLeadingZerosIsAnOrdinaryChunk() throws {
        let body = [UInt8]("005\r\nhello\r\n0\r\n\r\n")
        var whole = BodyDecoder(framing: .chunked)
        whole.holdsLastChunk = true
        XCTAssertEqual(try consumedUntilHeld(&whole, body, step: body.count), 12)
        XCTAssertTrue(whole.isHoldingLastChunk)

        var d = BodyDecoder(framing: .chunked)
        d.holdsLastChunk = true
        XCTAssertEqual(try consumedUntilHeld(&d, body, step: 2), 0, "a run of zeros alone is held")
        XCTAssertEqual(try body.withUnsafeBytes { (b) throws(HTTP1Error) in try d.takeHeldLine(b) }, .chunk(lineBytes: 5))
        XCTAssertEqual(try consumedUntilHeld(&d, body, from: 5, step: body.count), 12)
        let rest = Array(body[12...])
        XCTAssertEqual(try rest.withUnsafeBytes { (b) throws(HTTP1Error) in try d.takeHeldLine(b) }, .lastChunk(bytes: 5))
        XCTAssertTrue(d.isComplete)
    }

    /// Should refuse a held section that breaks the framing (bare LF, NUL in a trailer value) or its bound.
    func testAHeldSectionIsCheckedAsAnyTrailer() {
        var limits = HTTP1Limits()
        limits.maxTrailerBytes = 64
        for bad in ["0\r\nX: a\nY: b\r\n\r\n", "0\r\nX: a\u{0}b\r\n\r\n", "0\n\r\n",
                    "0\r\nX: " + String(repeating: "t", count: 80) + "\r\n\r\n"] {
            var d = BodyDecoder(framing: .chunked, limits: limits)
            d.holdsLastChunk = true
            let bytes = [UInt8](bad.utf8)
            XCTAssertEqual(try bytes.withUnsafeBytes { (b) throws(HTTP1Error) in try d.consume(b) }, 0)
            XCTAssertThrowsError(try bytes.withUnsafeBytes { (b) throws(HTTP1Error) in try d.takeHeldLine(b) }, bad.debugDescription)
        }
    }
}
