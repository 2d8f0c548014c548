// Tests of a head's text kept as scratch space across parses: a shorter head after a longer one reads only its own
// bytes (target, path, lowercased host, reason), whichever buffers the parser swapped in.
import XCTest
@testable import HTTP1

final class HeadTextReuseTests: XCTestCase {
    /// Should read each head's own target, path and host when one parser and one taken head alternate buffers
    /// (`takeHead` swaps), a long target first, then shorter ones that append a lowercased host or a synthesised path.
    func testRequestsOfFallingLengthsOnOneParser() throws {
        let long = "/" + String(repeating: "a", count: 300)
        let cases: [(String, target: String, path: String, host: String?)] = [
            ("GET http://Long.Example.Internal:8080\(long) HTTP/1.1\r\nHost: Long.Example.Internal:8080\r\n\r\n",
             "http://Long.Example.Internal:8080\(long)", long, "long.example.internal"),
            ("GET http://B.example?q=1 HTTP/1.1\r\nHost: B.example\r\n\r\n", "http://B.example?q=1", "/?q=1", "b.example"),
            ("GET /x HTTP/1.1\r\nHost: c\r\n\r\n", "/x", "/x", nil),
            ("GET http://d HTTP/1.1\r\nHost: d\r\n\r\n", "http://d", "/", "d"),
            ("CONNECT E.example:443 HTTP/1.1\r\nHost: E.example:443\r\n\r\n", "E.example:443", "", "e.example"),
            ("OPTIONS * HTTP/1.1\r\nHost: f\r\n\r\n", "*", "*", nil),
        ]
        var parser = RequestHeadParser()
        var taken = RequestHead()
        for round in 0..<2 {
            for (text, target, path, host) in cases {
                let bytes = [UInt8](text.utf8)
                let result = try bytes.withUnsafeBytes { (r) throws(HTTP1Error) in try parser.parse(r) }
                XCTAssertEqual(result, .complete(consumed: bytes.count), text)
                parser.takeHead(into: &taken)
                XCTAssertEqual(taken.target, target, "\(round) \(text)")
                XCTAssertEqual(taken.path, path, "\(round) \(text)")
                XCTAssertEqual(taken.targetAuthority?.host, host, "\(round) \(text)")
                // The text in use holds the target, then at most a lowercased host and a synthesised path: none of
                // the longer head's bytes before it.
                let used = Int(taken.textCount)
                XCTAssertGreaterThanOrEqual(used, target.utf8.count, "\(round) \(text)")
                XCTAssertLessThanOrEqual(used, target.utf8.count + (host?.utf8.count ?? 0) + path.utf8.count + 1, "\(round) \(text)")
            }
        }
        // A target set by hand after a parse is appended to the text in use, not to stale bytes.
        taken.target = "/set"
        taken.path = "/p"
        XCTAssertEqual(taken.target, "/set")
        XCTAssertEqual(taken.path, "/p")
    }

    /// Should read each response's own reason after a longer one, and a reason set by hand replaces the text.
    func testReasonsOfFallingLengthsOnOneParser() throws {
        var parser = ResponseHeadParser()
        for (line, reason) in [("HTTP/1.1 200 A Very Long Reason Phrase Indeed", "A Very Long Reason Phrase Indeed"),
                               ("HTTP/1.1 404 Nope", "Nope"), ("HTTP/1.1 204", ""), ("HTTP/1.1 500 X", "X")] {
            let bytes = [UInt8]("\(line)\r\nContent-Length: 0\r\n\r\n".utf8)
            _ = try bytes.withUnsafeBytes { (r) throws(HTTP1Error) in try parser.parse(r) }
            XCTAssertEqual(parser.head.reason, reason, line)
            var h = parser.head
            h.reason = "Set"
            XCTAssertEqual(h.reason, "Set")
            XCTAssertEqual(h.textCount, 3)
            parser.reset()
        }
    }
}
