// The head writer for berth's own answers: status line, fields, length and Connection, within its stated bound.
import XCTest
@testable import HTTP1

final class LocalResponseTests: XCTestCase {
    /// Should write the status line with its reason, the fields in order, Content-Length and the blank line.
    func testAnErrorAnswerHeadIsWrittenInFull() {
        var out: [UInt8] = []
        let head = LocalResponse(status: 503, fields: [("Berth-Error", "pool-timeout"), ("Content-Type", "text/plain")],
                                 contentLength: 42, keepAlive: true)
        HeadSerializer.writeLocalResponse(head, into: &out)
        XCTAssertEqual(String(decoding: out, as: UTF8.self),
                       "HTTP/1.1 503 Service Unavailable\r\nBerth-Error: pool-timeout\r\nContent-Type: text/plain\r\nContent-Length: 42\r\n\r\n")
    }

    /// Should say Connection: close when the connection does not stay, and stay within the bound for long values.
    func testCloseIsSaidAndTheBoundHolds() {
        var out: [UInt8] = []
        let long = String(repeating: "v", count: 5000)
        let head = LocalResponse(status: 400, fields: [("X-Long", long)], contentLength: Int.max, keepAlive: false)
        HeadSerializer.writeLocalResponse(head, into: &out)
        let text = String(decoding: out, as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 400 Bad Request\r\nX-Long: \(long)\r\n"))
        XCTAssertTrue(text.hasSuffix("Content-Length: \(Int.max)\r\nConnection: close\r\n\r\n"))
        XCTAssertLessThanOrEqual(out.count, head.bound)
    }

    /// Should parse back as the response it describes.
    func testTheHeadParsesBack() throws {
        var out: [UInt8] = []
        HeadSerializer.writeLocalResponse(LocalResponse(status: 404, fields: [], contentLength: 0, keepAlive: true), into: &out)
        var p = ResponseHeadParser(limits: .default)
        let r = try out.withUnsafeBytes { try p.parse($0) }
        XCTAssertEqual(r, .complete(consumed: out.count))
        XCTAssertEqual(p.head.status, 404)
    }

    /// Should tell an HTTP/1.0 caller that a kept connection stays open (RFC 9112 9.3), and say close when it does not.
    func testAnHTTP10CallersKeptConnectionIsSaidToStay() {
        var head = LocalResponse(status: 502, fields: [], contentLength: 0, keepAlive: true)
        head.http10Caller = true
        var out: [UInt8] = []
        HeadSerializer.writeLocalResponse(head, into: &out)
        XCTAssertEqual(String(decoding: out, as: UTF8.self), "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n")
        XCTAssertLessThanOrEqual(out.count, head.bound)
        head.keepAlive = false
        out = []
        HeadSerializer.writeLocalResponse(head, into: &out)
        XCTAssertEqual(String(decoding: out, as: UTF8.self), "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    }
}
