// Tests of the raw-memory head writer and of the serializer's size bounds, which keep it inside its reservation.
import XCTest
@testable import HTTP1

final class HeadWriterTests: XCTestCase {
    func written(capacity: Int = 64, _ body: (inout HeadWriter) -> Void) -> String {
        var out: [UInt8] = []
        out.appendHead(bound: capacity, body)
        return String(decoding: out, as: UTF8.self)
    }

    func testDecimals() {
        for (v, s) in [(0, "0"), (7, "7"), (10, "10"), (99, "99"), (100, "100"), (200, "200"), (12345, "12345"),
                       (Int.max, String(Int.max)), (-5, "0")] {
            XCTAssertEqual(written { $0.decimal(v) }, s)
        }
    }

    func testPiecesAndCount() {
        var out: [UInt8] = Array("keep:".utf8)
        out.appendHead(bound: 32) { w in
            w.literal("HTTP/1.1 ")
            w.byte(UInt8(ascii: "x"))
            w.raw([UInt8]("yz".utf8))
            w.crlf()
            XCTAssertEqual(w.count, 14)
        }
        // What was there stays, and nothing of the unused reservation is left behind.
        XCTAssertEqual(String(decoding: out, as: UTF8.self), "keep:HTTP/1.1 xyz\r\n")
    }

    func testExactFit() {
        XCTAssertEqual(written(capacity: 4) { $0.literal("abcd") }, "abcd")
        XCTAssertEqual(written(capacity: 3) { $0.decimal(999) }, "999")
    }

    /// Writes each head through the writer with exactly the bound as capacity (a write past it traps), and checks that
    /// the bound is not wildly above what was written (it is sized from the stored head, not a fixed slab).
    func testBoundsHoldForVariedHeads() throws {
        let long = String(repeating: "v", count: 6000)
        let requests = [
            "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET http://example.com:8080/p/q?x=1 HTTP/1.1\r\nHost: other\r\nConnection: keep-alive, x-a\r\nX-A: 1\r\n\r\n",
            "POST /upload HTTP/1.0\r\nHost: h\r\nContent-Length: 3\r\nX-Long: \(long)\r\n\r\n",
            "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n",
            "CONNECT db.internal:5432 HTTP/1.1\r\nHost: db.internal:5432\r\n\r\n",
            "OPTIONS * HTTP/1.1\r\nHost: h\r\nTE: trailers\r\nProxy-Connection: x\r\n\r\n",
        ]
        var options = ForwardOptions()
        options.via = "1.1 berth-test-instance-with-a-long-name"
        for text in requests {
            var p = RequestHeadParser()
            let b = [UInt8](text.utf8)
            _ = try b.withUnsafeBytes { (r) throws(HTTP1Error) in try p.parse(r) }
            for opts in [ForwardOptions(), options] {
                for host in ["", "upstream.example.com:8080"] {
                    let bound = HeadSerializer.forwardRequestBound(p.head, host: host, options: opts)
                    var out: [UInt8] = []
                    HeadSerializer.writeForwardRequest(p.head, host: host, options: opts, into: &out)
                    XCTAssertLessThanOrEqual(out.count, bound, text)
                    XCTAssertLessThanOrEqual(bound - out.count, text.utf8.count + 64, text)
                }
            }
        }
        let responses = [
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n",
            "HTTP/1.1 204\r\n\r\n",
            "HTTP/1.0 404 A much longer reason phrase than usual\r\nX-Long: \(long)\r\nConnection: close\r\n\r\n",
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n",
            "HTTP/1.1 100 Continue\r\n\r\n",
            "HTTP/1.1 502 X\r\n" + String(repeating: "berth-error:x\r\n", count: 40) + "\r\n",
        ]
        for text in responses {
            var p = ResponseHeadParser()
            let b = [UInt8](text.utf8)
            _ = try b.withUnsafeBytes { (r) throws(HTTP1Error) in try p.parse(r) }
            var chunking = options
            chunking.addChunked = true
            for opts in [ForwardOptions(), options, chunking] {
                for (version, keep) in [(HTTPVersion.http11, true), (.http11, false), (.http10, true)] {
                    let bound = HeadSerializer.forwardResponseBound(p.head, options: opts)
                    var out: [UInt8] = []
                    HeadSerializer.writeForwardResponse(p.head, callerVersion: version, keepAlive: keep, options: opts, into: &out)
                    XCTAssertLessThanOrEqual(out.count, bound, text)
                    XCTAssertGreaterThan(out.count, 0)
                }
            }
        }
    }
}
