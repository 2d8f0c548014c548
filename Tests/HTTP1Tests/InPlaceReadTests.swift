// Tests of the codec's in-place paths: short copies without memcpy, a parser's framing read without its head, and
// the lexer's lines committed on every way out of a slice.
import XCTest
@testable import HTTP1

final class InPlaceReadTests: XCTestCase {
    /// Every length from 1 to 40 (each tier of `copyBytes` and its edges, and memcpy's beyond), at several offsets:
    /// exactly the source's bytes land, and not one byte before or after.
    func testCopyBytesCopiesExactlyTheBytesAtEveryLength() {
        let source = (0..<64).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        for n in 1...40 {
            for offset in [0, 1, 7] {
                var dest = [UInt8](repeating: 0xEE, count: 64)
                source.withUnsafeBytes { s in
                    dest.withUnsafeMutableBytes { d in copyBytes(d.baseAddress! + offset, s.baseAddress! + 3, n) }
                }
                var expected = [UInt8](repeating: 0xEE, count: 64)
                expected.replaceSubrange(offset..<(offset + n), with: source[3..<(3 + n)])
                XCTAssertEqual(dest, expected, "length \(n) at offset \(offset)")
            }
        }
    }

    /// Scratch text (`putRaw`) over every length, written over a longer earlier text: its logical length is the new
    /// one and its bytes are the new ones.
    func testPutRawOverwritesAtEveryLength() {
        var text: [UInt8] = []
        let long = [UInt8](repeating: 0x41, count: 50)
        for n in 1...40 {
            let piece = (0..<n).map { UInt8(0x61 + $0 % 26) }
            _ = long.withUnsafeBytes { text.putRaw($0, at: 0) }
            let end = piece.withUnsafeBytes { text.putRaw($0, at: 2) }
            XCTAssertEqual(end, 2 + n)
            XCTAssertEqual(Array(text[2..<end]), piece, "length \(n)")
            XCTAssertEqual(Array(text[0..<2]), [0x41, 0x41])
        }
    }

    /// `ResponseHeadParser.framing(of:requestMethod:)` agrees with `head.framing(requestMethod:)` for every status
    /// class and framing, for the methods that change it (HEAD, CONNECT) and others, one with a name of its own;
    /// and for a parser with no head yet (no parsed framing: its fields decide).
    func testAParsersFramingInPlaceAgreesWithItsHeads() {
        let methods: [HTTPMethod] = [.get, .head, .connect, .post, .other("PURGE")]
        let framings = ["Content-Length: 5\r\n", "Transfer-Encoding: chunked\r\n", ""]
        var compared = 0
        for status in [100, 101, 200, 204, 206, 299, 304, 404, 503] {
            for fields in framings {
                var parser = ResponseHeadParser()
                let bytes = [UInt8]("HTTP/1.1 \(status) X\r\n\(fields)\r\n".utf8)
                // A pairing the parser refuses (none is expected here) is left out, and counted below.
                guard case .complete? = try? bytes.withUnsafeBytes({ try parser.parse($0) }) else { continue }
                compared += 1
                for m in methods {
                    XCTAssertEqual(ResponseHeadParser.framing(of: &parser, requestMethod: m),
                                   parser.head.framing(requestMethod: m), "\(status) \(fields.debugDescription) \(m)")
                }
            }
        }
        XCTAssertGreaterThan(compared, 20)
        var fresh = ResponseHeadParser()
        for m in methods {
            XCTAssertEqual(ResponseHeadParser.framing(of: &fresh, requestMethod: m), fresh.head.framing(requestMethod: m))
        }
        XCTAssertEqual(ResponseHeadParser.framing(of: &fresh, requestMethod: .get), .untilClose)
    }

    /// A head refused at a later line keeps the lines lexed before it, whole, at every split of its bytes: the lexer
    /// commits a slice's lines on each way out of it, a refusal included.
    func testLinesBeforeARefusedLineAreKeptAtEverySplit() {
        let bytes = [UInt8]("GET / HTTP/1.1\r\nHost: a.example\r\nX-One: 1\r\nBad Name: 2\r\n\r\n".utf8)
        for split in 0...bytes.count {
            var parser = RequestHeadParser()
            var refused: HTTP1Error? = nil
            for part in [Array(bytes[..<split]), Array(bytes[split...])] where refused == nil {
                do { _ = try part.withUnsafeBytes { try parser.parse($0) } } catch { refused = error as? HTTP1Error }
            }
            XCTAssertEqual(refused, .whitespaceBeforeColon, "split \(split)")
            XCTAssertEqual(parser.head.headers["host"], "a.example", "split \(split)")
            XCTAssertEqual(parser.head.headers["x-one"], "1", "split \(split)")
        }
    }
}
