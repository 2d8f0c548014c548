// Tests that a held last chunk's line and trailer section are read once, however they arrive.
import XCTest
@testable import HTTP1

final class HeldLineResumeTests: XCTestCase {
    /// The answer to `takeHeldLine` for the bytes of `held` up to `end`, with those before `read` overwritten with
    /// NUL, which no size line or trailer may hold: a decoder that read them again would refuse them.
    func take(_ d: inout BodyDecoder, _ held: [UInt8], upTo end: Int, poisoningBefore read: Int) throws -> BodyDecoder.HeldLine {
        var offered = Array(held[..<end])
        for i in 0..<read { offered[i] = 0 }
        return try offered.withUnsafeBytes { (b) throws(HTTP1Error) in try d.takeHeldLine(b) }
    }

    /// A decoder holding the line that starts `held`.
    func holding(_ held: [UInt8]) throws -> BodyDecoder {
        var d = BodyDecoder(framing: .chunked)
        d.holdsLastChunk = true
        XCTAssertEqual(try held.withUnsafeBytes { (b) throws(HTTP1Error) in try d.consume(b) }, 0)
        XCTAssertTrue(d.isHoldingLastChunk)
        return d
    }

    /// Should read each byte of a held section once when it drips a byte per read: a relay asks at every read with
    /// all buffered from the held line on, and a decoder that read from the line's start each time did about
    /// 16,000² / 2 byte checks for a 16,000-byte section (0.36 s of CPU in bench/codec).
    func testASectionDrippedAByteAtATimeIsReadOnce() throws {
        let held = [UInt8]("0;e=1\r\nX-A: 1\r\nX-Pad: " + String(repeating: "p", count: 2_000) + "\r\n\r\n")
        var d = try holding(held)
        for end in 1..<held.count {
            XCTAssertEqual(try take(&d, held, upTo: end, poisoningBefore: end - 1), .needMore, "at \(end)")
            XCTAssertTrue(d.isHoldingLastChunk)
        }
        XCTAssertEqual(try take(&d, held, upTo: held.count, poisoningBefore: held.count - 1), .lastChunk(bytes: held.count))
        XCTAssertTrue(d.isComplete)
    }

    /// Should give a size with leading zeros dripped a digit per read back as a chunk whose line is all of them,
    /// each digit read once; the decoder then holds the next line from its start.
    func testLeadingZerosDrippedAreReadOnce() throws {
        let held = [UInt8]("0005\r\nhello\r\n0\r\n\r\n")
        var d = try holding(Array(held[..<3]))  // a run that ends in zeros: the size is not known yet
        for end in 1...3 { XCTAssertEqual(try take(&d, held, upTo: end, poisoningBefore: end - 1), .needMore) }
        XCTAssertEqual(try take(&d, held, upTo: held.count, poisoningBefore: 3), .chunk(lineBytes: 6))
        XCTAssertEqual(try Array(held[6...]).withUnsafeBytes { (b) throws(HTTP1Error) in try d.consume(b) }, 7)
        let last = Array(held[13...])
        XCTAssertEqual(try take(&d, last, upTo: 2, poisoningBefore: 0), .needMore)
        XCTAssertEqual(try take(&d, last, upTo: last.count, poisoningBefore: 2), .lastChunk(bytes: last.count))
    }

    /// Should find the same end, and refuse the same faults, with the section split in two at every offset.
    func testASectionSplitAtEveryOffsetEndsTheSame() throws {
        let held = [UInt8]("0;x=\"q\"\r\nX-A: 1\r\nX-B:\t2 \r\n\r\n")
        for cut in 0...held.count {
            var d = try holding(held)
            let first = try take(&d, held, upTo: cut, poisoningBefore: 0)
            XCTAssertEqual(first, cut == held.count ? .lastChunk(bytes: held.count) : .needMore, "cut \(cut)")
            if cut < held.count {
                XCTAssertEqual(try take(&d, held, upTo: held.count, poisoningBefore: cut), .lastChunk(bytes: held.count), "cut \(cut)")
            }
        }
        for bad in ["0\r\nX: a\u{0}b\r\n\r\n", "0\r\nX: a\rb\r\n\r\n", "0\r\nX: a\nb\r\n\r\n", "0\r\n X: folded\r\n\r\n",
                    "0\r\nX: a\r\n folded\r\n\r\n", "0\r\nX : a\r\n\r\n", "0\r\n\r\r\n"] {
            let held = [UInt8](bad.utf8)
            for cut in 0..<held.count {
                var d = try holding(held)
                do {
                    _ = try take(&d, held, upTo: cut, poisoningBefore: 0)
                    _ = try take(&d, held, upTo: held.count, poisoningBefore: cut)
                    XCTFail("\(bad.debugDescription) cut at \(cut) was taken")
                } catch {}
            }
        }
    }
}
