// review13: a head's reused text (scratch space with a length of its own) never lends a byte of an earlier, longer
// head: not after a head that failed midway, not across a line carried over reads, not in a final reason after a 1xx.
import XCTest
@testable import HTTP1

final class HeadTextLeakTests: XCTestCase {
    let long = "http://very-long-host-name.example.internal:8080/" + String(repeating: "p", count: 200)

    func parse(_ p: inout RequestHeadParser, _ text: String, split: Int? = nil) throws -> HeadParseResult {
        let b = [UInt8](text.utf8)
        guard let split, split < b.count else {
            return try b.withUnsafeBytes { (r) throws(HTTP1Error) in try p.parse(r) }
        }
        // The carried line: the first read stops mid start line; the lexer keeps it and the next read completes it.
        let first = try b[0..<split].withUnsafeBytes { (r) throws(HTTP1Error) in try p.parse(r) }
        guard case .needMore = first else { return first }
        return try b[split...].withUnsafeBytes { (r) throws(HTTP1Error) in try p.parse(r) }
    }

    /// Should read a head's own target, path and host after a long one, whatever form follows, its start line split
    /// across two reads at every few bytes.
    func testShorterHeadsAfterALongOneAcrossReads() throws {
        let follow: [(String, target: String, path: String, host: String?)] = [
            ("GET * HTTP/1.1\r\nHost: a\r\n\r\n", "*", "/", nil),
            ("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", "*", "*", nil),
            ("CONNECT B:1 HTTP/1.1\r\nHost: B:1\r\n\r\n", "B:1", "", "b"),
            ("GET http://C HTTP/1.1\r\nHost: C\r\n\r\n", "http://C", "/", "c"),
            ("GET / HTTP/1.1\r\nHost: d\r\n\r\n", "/", "/", nil),
        ]
        for (text, target, path, host) in follow {
            for split in stride(from: 1, to: 14, by: 3) {
                var p = RequestHeadParser()
                var taken = RequestHead()
                _ = try parse(&p, "GET \(long) HTTP/1.1\r\nHost: x\r\n\r\n")
                p.takeHead(into: &taken)
                _ = try parse(&p, "GET \(long) HTTP/1.1\r\nHost: x\r\n\r\n")
                p.takeHead(into: &taken)  // both buffers now hold the long text
                let r: HeadParseResult
                do { r = try parse(&p, text, split: split) } catch { continue }  // GET * is refused: nothing to read
                guard case .complete = r else { XCTFail("\(text) \(split): \(r)"); continue }
                p.takeHead(into: &taken)
                XCTAssertEqual(taken.target, target, "\(text) \(split)")
                XCTAssertEqual(taken.path, path, "\(text) \(split)")
                XCTAssertEqual(taken.targetAuthority?.host, host, "\(text) \(split)")
                taken.withTargetBytes { XCTAssertEqual(Array($0), Array(target.utf8)) }
                var route: [UInt8] = []
                if taken.appendSchemeAndAuthority(to: &route) { XCTAssertTrue(target.utf8.starts(with: route), text) }
            }
        }
    }

    /// Should read, after a head that failed midway (its target stored, a field refused), a reset parser's next short
    /// head, and the failed head's own target while it is there (what an error would echo), never the longer one's.
    func testAHeadThatFailedMidwayLeavesNothingBehind() throws {
        var p = RequestHeadParser()
        var taken = RequestHead()
        _ = try parse(&p, "GET \(long) HTTP/1.1\r\nHost: x\r\n\r\n")
        p.takeHead(into: &taken)
        _ = try parse(&p, "GET \(long) HTTP/1.1\r\nHost: x\r\n\r\n")
        p.takeHead(into: &taken)
        XCTAssertThrowsError(try parse(&p, "GET /e HTTP/1.1\r\nHost: x\r\nBad Name: y\r\n\r\n"))
        XCTAssertEqual(p.head.target, "/e")
        p.reset()
        XCTAssertNil(p.head.targetAuthority)
        _ = try parse(&p, "GET /f HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(p.head.target, "/f")
        XCTAssertEqual(p.head.textCount, 2)
    }

    /// Should read a final response's own reason after a long 1xx reason on the same parser, reset between them as
    /// the relay does, and an empty reason after a long one, also with the status line split across reads.
    func testAFinalReasonAfterALongerInterimOne() throws {
        var p = ResponseHeadParser()
        let heads: [(String, String)] = [("HTTP/1.1 103 Early Hints With A Long Reason Phrase\r\n\r\n", "Early Hints With A Long Reason Phrase"),
                                         ("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "OK"),
                                         ("HTTP/1.1 100 A Much Longer Continue Reason\r\n\r\n", "A Much Longer Continue Reason"),
                                         ("HTTP/1.1 204\r\n\r\n", ""),
                                         ("HTTP/1.1 404 N\r\nContent-Length: 0\r\n\r\n", "N")]
        for split in [0, 5, 13] {
            for (text, reason) in heads {
                let b = [UInt8](text.utf8)
                if split > 0 {
                    _ = try b[0..<split].withUnsafeBytes { (r) throws(HTTP1Error) in try p.parse(r) }
                    _ = try b[split...].withUnsafeBytes { (r) throws(HTTP1Error) in try p.parse(r) }
                } else {
                    _ = try b.withUnsafeBytes { (r) throws(HTTP1Error) in try p.parse(r) }
                }
                XCTAssertEqual(p.head.reason, reason, "\(split) \(text)")
                p.head.withReasonBytes { XCTAssertEqual(Array($0), Array(reason.utf8), text) }
                p.reset()
            }
        }
    }
}
