// The payload-reporting form of BodyDecoder.consume, which lets the proxy strip chunked framing for HTTP/1.0 callers.
import XCTest
@testable import HTTP1

final class DechunkTests: XCTestCase {
    private let body = Array("5\r\nhello\r\n3;ext=1\r\nabc\r\n0\r\nX-T: 1\r\n\r\nNEXT".utf8)

    private func dechunk(splits: [Int]) throws -> (payload: [UInt8], consumed: Int) {
        var d = BodyDecoder(framing: .chunked)
        var payload: [UInt8] = []
        var consumed = 0
        var start = 0
        for end in splits + [body.count] where end > start {
            let slice = Array(body[start..<end])
            let n = try slice.withUnsafeBytes { buf in
                try d.consume(buf) { r in payload += buf[r] }
            }
            consumed += n
            if d.isComplete { break }
            XCTAssertEqual(n, slice.count, "an incomplete body takes every byte it is given")
            start = end
        }
        XCTAssertTrue(d.isComplete)
        return (payload, consumed)
    }

    func testPayloadWithoutFramingAtEverySplitPoint() throws {
        for split in 0...body.count {
            let (payload, consumed) = try dechunk(splits: [split])
            XCTAssertEqual(String(decoding: payload, as: UTF8.self), "helloabc", "split at \(split)")
            XCTAssertEqual(consumed, body.count - 4, "stops before the next message")
        }
    }

    func testPayloadOneByteAtATime() throws {
        let (payload, _) = try dechunk(splits: Array(1..<body.count))
        XCTAssertEqual(String(decoding: payload, as: UTF8.self), "helloabc")
    }

    func testContentLengthBodiesReportTheirBytesAsPayload() throws {
        var d = BodyDecoder(framing: .contentLength(3))
        var ranges: [Range<Int>] = []
        let n = try Array("abcdef".utf8).withUnsafeBytes { try d.consume($0) { ranges.append($0) } }
        XCTAssertEqual(n, 3)
        XCTAssertEqual(ranges, [0..<3])
    }
}
