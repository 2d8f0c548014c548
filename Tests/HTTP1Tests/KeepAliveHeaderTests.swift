// Tests of the Keep-Alive header on both hops: the upstream's `timeout=` read by the parser, berth's own written.
import XCTest
@testable import HTTP1

final class KeepAliveHeaderTests: XCTestCase {
    func timeout(_ fields: String) throws -> Int32 {
        var p = ResponseHeadParser()
        let b = [UInt8]("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\(fields)\r\n")
        _ = try b.withUnsafeBytes { (r) throws(HTTP1Error) in try p.parse(r) }
        return p.head.keepAliveTimeout
    }

    /// Should read `timeout=N` whatever its place, spelling or other parameters, and the smallest of several.
    func testTimeoutParameterIsRead() throws {
        XCTAssertEqual(try timeout("Keep-Alive: timeout=5\r\n"), 5)
        XCTAssertEqual(try timeout("keep-alive: max=100, TIMEOUT=15\r\n"), 15)
        XCTAssertEqual(try timeout("Keep-Alive: timeout=0\r\n"), 0)
        XCTAssertEqual(try timeout("Keep-Alive: timeout=9\r\nKeep-Alive: timeout=3\r\n"), 3)
        XCTAssertEqual(try timeout("Keep-Alive: timeout=99999999999999999999\r\n"), 86_400)
    }

    /// Should ignore a hint it cannot read rather than guess: no header, no timeout, or a malformed value.
    func testMissingOrMalformedTimeoutIsNoHint() throws {
        XCTAssertEqual(try timeout(""), -1)
        XCTAssertEqual(try timeout("Keep-Alive: max=100\r\n"), -1)
        XCTAssertEqual(try timeout("Keep-Alive: timeout=\r\n"), -1)
        XCTAssertEqual(try timeout("Keep-Alive: timeout=5s\r\n"), -1)
        XCTAssertEqual(try timeout("Keep-Alive: timeout=-1\r\n"), -1)
        XCTAssertEqual(try timeout("X-Keep-Alive: timeout=5\r\n"), -1)
    }

    /// Should reset the hint between responses parsed by the same parser.
    func testParserResetClearsTheHint() throws {
        var p = ResponseHeadParser()
        for (head, want) in [("HTTP/1.1 200 OK\r\nKeep-Alive: timeout=4\r\nContent-Length: 0\r\n\r\n", Int32(4)),
                             ("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", -1)] {
            p.reset()
            let b = [UInt8](head)
            _ = try b.withUnsafeBytes { (r) throws(HTTP1Error) in try p.parse(r) }
            XCTAssertEqual(p.head.keepAliveTimeout, want)
        }
    }

    func forward(_ caller: HTTPVersion, keepAlive: Bool, announce: Int?, status: Int = 200) throws -> String {
        var p = ResponseHeadParser()
        let b = [UInt8]("HTTP/1.1 \(status) X\r\nKeep-Alive: timeout=2\r\nContent-Length: 0\r\n\r\n")
        _ = try b.withUnsafeBytes { (r) throws(HTTP1Error) in try p.parse(r) }
        var out: [UInt8] = []
        HeadSerializer.writeForwardResponse(p.head, callerVersion: caller, keepAlive: keepAlive, options: ForwardOptions(),
                                            keepAliveTail: KeepAliveLine.tail(seconds: announce), into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Should announce berth's own timeout (never the upstream's) on keep-alive answers to HTTP/1.1 callers only.
    func testAnnouncementOnlyOnHTTP11KeepAlive() throws {
        XCTAssertEqual(try forward(.http11, keepAlive: true, announce: 59),
                       "HTTP/1.1 200 X\r\nContent-Length: 0\r\nKeep-Alive: timeout=59\r\n\r\n")
        XCTAssertEqual(try forward(.http11, keepAlive: false, announce: 59),
                       "HTTP/1.1 200 X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        XCTAssertEqual(try forward(.http10, keepAlive: true, announce: 59),
                       "HTTP/1.1 200 X\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n")
        XCTAssertEqual(try forward(.http11, keepAlive: true, announce: nil),
                       "HTTP/1.1 200 X\r\nContent-Length: 0\r\n\r\n")
        XCTAssertFalse(try forward(.http11, keepAlive: true, announce: 59, status: 101).contains("Keep-Alive"))
    }

    /// Should give back the number it was set to (the options are logged and compared).
    func testOptionRoundTrips() {
        XCTAssertNil(KeepAliveLine.seconds(KeepAliveLine.tail(seconds: nil)))
        XCTAssertEqual(KeepAliveLine.seconds(KeepAliveLine.tail(seconds: 7)), 7)
        XCTAssertEqual(KeepAliveLine.seconds(KeepAliveLine.tail(seconds: 59)), 59)
        // Past the six digits the word holds.
        XCTAssertEqual(KeepAliveLine.seconds(KeepAliveLine.tail(seconds: 5_000_000)), 999_999)
    }

    /// Should announce on berth's own kept answers when told to, and never on one that closes.
    func testLocalResponseAnnouncement() {
        var head = LocalResponse(status: 502, fields: [], contentLength: 0, keepAlive: true)
        head.keepAliveTail = KeepAliveLine.tail(seconds: 29)
        var out: [UInt8] = []
        HeadSerializer.writeLocalResponse(head, into: &out)
        XCTAssertEqual(String(decoding: out, as: UTF8.self),
                       "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nKeep-Alive: timeout=29\r\n\r\n")
        head.keepAlive = false
        out = []
        HeadSerializer.writeLocalResponse(head, into: &out)
        XCTAssertEqual(String(decoding: out, as: UTF8.self), "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    }
}
