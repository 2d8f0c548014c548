// Tests of the forwarding serializer: origin-form, Host, each hop-by-hop rule, Connection and Via.
import XCTest
@testable import HTTP1

final class SerializerTests: XCTestCase {
    func request(_ s: String) throws -> RequestHead {
        var p = RequestHeadParser()
        let b = [UInt8](s)
        _ = try b.withUnsafeBytes { (r) throws(HTTP1Error) in try p.parse(r) }
        return p.head
    }

    func response(_ s: String) throws -> ResponseHead {
        var p = ResponseHeadParser()
        let b = [UInt8](s)
        _ = try b.withUnsafeBytes { (r) throws(HTTP1Error) in try p.parse(r) }
        return p.head
    }

    func forward(_ s: String, host: String = "example.com", options: ForwardOptions = ForwardOptions()) throws -> String {
        var out: [UInt8] = []
        HeadSerializer.writeForwardRequest(try request(s), host: host, options: options, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    func forwardResponse(_ s: String, caller: HTTPVersion = .http11, keepAlive: Bool = true,
                         options: ForwardOptions = ForwardOptions()) throws -> String {
        var out: [UInt8] = []
        HeadSerializer.writeForwardResponse(try response(s), callerVersion: caller, keepAlive: keepAlive, options: options, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// The status line's code goes out as received, on the 200 fast path and off it (its neighbours, other classes).
    func testEveryStatusCodeIsForwardedAsReceived() throws {
        for code in [100, 199, 200, 201, 210, 299, 300, 302, 400, 404, 500, 599, 999] {
            let out = try forwardResponse("HTTP/1.1 \(code) R\r\nContent-Length: 0\r\n\r\n")
            XCTAssertTrue(out.hasPrefix("HTTP/1.1 \(code) R\r\n"), out)
        }
    }

    func testAbsoluteFormIsRewrittenToOriginFormWithHostFirst() throws {
        XCTAssertEqual(try forward("GET http://Example.com/a?b HTTP/1.1\r\nAccept: */*\r\nHost: other\r\n\r\n"),
                       "GET /a?b HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n")
        XCTAssertEqual(try forward("GET http://example.com HTTP/1.1\r\nHost: x\r\n\r\n", host: "example.com:8080"),
                       "GET / HTTP/1.1\r\nHost: example.com:8080\r\n\r\n")
    }

    /// Should forward an upstream's Berth-Error (any spelling) as Berth-Upstream-Error with its value, in place, so
    /// the caller never takes it for this berth's own cause; a request's is left alone.
    func testAnUpstreamsBerthErrorIsRenamed() throws {
        XCTAssertEqual(try forwardResponse("HTTP/1.1 502 Bad\r\nA: 1\r\nberth-ERROR:  pool-timeout \r\nB: 2\r\nBerth-Error: x\r\n\r\n"),
                       "HTTP/1.1 502 Bad\r\nA: 1\r\nBerth-Upstream-Error: pool-timeout\r\nB: 2\r\nBerth-Upstream-Error: x\r\n\r\n")
        XCTAssertEqual(try forward("GET / HTTP/1.1\r\nHost: a\r\nBerth-Error: x\r\n\r\n"),
                       "GET / HTTP/1.1\r\nHost: example.com\r\nBerth-Error: x\r\n\r\n")
    }

    /// Should forward a Content-Length sent as a list of one value, or in several lines, as the one decimal value
    /// (RFC 9110 8.6: a sender must not forward the list); a single value goes out as it came.
    func testARepeatedContentLengthIsForwardedAsOneValue() throws {
        for fields in ["Content-Length: 5, 5\r\n", "Content-Length:5,5\r\n", "Content-Length: 5\r\nContent-Length: 5\r\n",
                       "Content-Length: 05 , 5\r\n"] {
            XCTAssertEqual(try forward("POST / HTTP/1.1\r\nHost: a\r\nA: 1\r\n\(fields)B: 2\r\n\r\n"),
                           "POST / HTTP/1.1\r\nHost: example.com\r\nA: 1\r\nB: 2\r\nContent-Length: 5\r\n\r\n", fields)
            XCTAssertEqual(try forwardResponse("HTTP/1.1 200 OK\r\n\(fields)X: 1\r\n\r\n"),
                           "HTTP/1.1 200 OK\r\nX: 1\r\nContent-Length: 5\r\n\r\n", fields)
        }
        XCTAssertEqual(try forward("POST / HTTP/1.1\r\nHost: a\r\ncontent-length:  07\r\n\r\n"),
                       "POST / HTTP/1.1\r\nHost: example.com\r\ncontent-length:  07\r\n\r\n")
        XCTAssertThrowsError(try request("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n"))
    }

    /// Should leave the framing fields out of a response that has no body by its status (1xx, 204: RFC 9110 8.6),
    /// listed or not, and keep those of a 304 (they describe the representation).
    func testABodilessStatusGoesOutWithoutFramingFields() throws {
        XCTAssertEqual(try forwardResponse("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\nContent-Length: 4\r\n\r\n"),
                       "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n")
        XCTAssertEqual(try forwardResponse("HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\nX: 1\r\n\r\n"),
                       "HTTP/1.1 204 No Content\r\nX: 1\r\n\r\n")
        XCTAssertEqual(try forwardResponse("HTTP/1.1 204 No Content\r\nContent-Length: 0, 0\r\nX: 1\r\n\r\n"),
                       "HTTP/1.1 204 No Content\r\nX: 1\r\n\r\n")
        XCTAssertEqual(try forwardResponse("HTTP/1.1 304 Not Modified\r\nContent-Length: 4\r\n\r\n"),
                       "HTTP/1.1 304 Not Modified\r\nContent-Length: 4\r\n\r\n")
    }

    /// Should keep the bound's growth per renamed line in step with the names it stands for.
    func testTheRenameGrowthMatchesTheNames() {
        XCTAssertEqual(HeadSerializer.upstreamErrorNameGrowth,
                       "\(HeadSerializer.upstreamErrorName)".utf8.count - "Berth-Error:".utf8.count)
    }

    /// Should add Transfer-Encoding: chunked for a re-framed close-delimited body, after the copied fields.
    func testAReframedBodyGetsChunkedFraming() throws {
        var o = ForwardOptions()
        o.addChunked = true
        XCTAssertEqual(try forwardResponse("HTTP/1.1 200 OK\r\nConnection: close\r\nX: 1\r\n\r\n", options: o),
                       "HTTP/1.1 200 OK\r\nX: 1\r\nTransfer-Encoding: chunked\r\n\r\n")
    }

    func testFieldLinesAreCopiedByteExact() throws {
        XCTAssertEqual(try forward("POST /x HTTP/1.1\r\nHost: a\r\nx-Odd:   spaced\t \r\nContent-Length: 3\r\n\r\n"),
                       "POST /x HTTP/1.1\r\nHost: example.com\r\nx-Odd:   spaced\t \r\nContent-Length: 3\r\n\r\n")
    }

    func testConnectionAndEveryFieldItNamesAreDropped() throws {
        XCTAssertEqual(try forward("GET / HTTP/1.1\r\nHost: a\r\nConnection: X-Secret, close\r\nX-Secret: 1\r\nx-secret: 2\r\nKeep: 3\r\n\r\n"),
                       "GET / HTTP/1.1\r\nHost: example.com\r\nKeep: 3\r\n\r\n")
    }

    /// The names Connection lists are noted as fields are stored: by the parser, by `append(name:value:)` on a head
    /// built by hand, and forgotten when a parser is reused for the next message.
    func testConnectionNamesAreNotedForHandBuiltHeadsAndForgottenBetweenMessages() throws {
        var head = RequestHead()
        head.headers.append(name: "Host", value: "a")
        head.headers.append(name: "Connection", value: "X-Hop")
        head.headers.append(name: "X-Hop", value: "1")
        head.headers.append(name: "Keep", value: "2")
        var out: [UInt8] = []
        HeadSerializer.writeForwardRequest(head, host: "example.com", options: ForwardOptions(), into: &out)
        XCTAssertEqual(String(decoding: out, as: UTF8.self), "GET / HTTP/1.1\r\nHost: example.com\r\nKeep: 2\r\n\r\n")

        var p = RequestHeadParser()
        for (input, expected) in [("GET / HTTP/1.1\r\nHost: a\r\nConnection: X-Hop\r\nX-Hop: 1\r\n\r\n", "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"),
                                  ("GET / HTTP/1.1\r\nHost: a\r\nX-Hop: 1\r\n\r\n", "GET / HTTP/1.1\r\nHost: example.com\r\nX-Hop: 1\r\n\r\n"),
                                  // Empty elements and OWS around and inside the list: the name is still found.
                                  ("GET / HTTP/1.1\r\nHost: a\r\nConnection: , \t X-Hop\t ,, close ,\r\nX-Hop: 1\r\nX-Ho: 2\r\n\r\n",
                                   "GET / HTTP/1.1\r\nHost: example.com\r\nX-Ho: 2\r\n\r\n")] {
            let b = [UInt8](input.utf8)
            _ = try b.withUnsafeBytes { (r) throws(HTTP1Error) in try p.parse(r) }
            var forwarded: [UInt8] = []
            HeadSerializer.writeForwardRequest(p.head, host: "example.com", options: ForwardOptions(), into: &forwarded)
            XCTAssertEqual(String(decoding: forwarded, as: UTF8.self), expected)
            p.reset()
        }
    }

    /// Should drop exactly the fields Connection names, whatever their length: a name of the same length as a listed
    /// one stays, and names of 63 bytes or more (which share one length bucket) are still compared byte for byte.
    func testConnectionNamesAreMatchedByNameNotOnlyByLength() throws {
        let long1 = "X-" + String(repeating: "a", count: 70)
        let long2 = "X-" + String(repeating: "b", count: 80)
        let out = try forward("GET / HTTP/1.1\r\nHost: a\r\nConnection: x-aa, \(long1)\r\nX-Aa: 1\r\nX-Bb: 2\r\n"
                              + "\(long1): 3\r\n\(long2): 4\r\n\r\n")
        XCTAssertEqual(out, "GET / HTTP/1.1\r\nHost: example.com\r\nX-Bb: 2\r\n\(long2): 4\r\n\r\n")
    }

    /// Should drop the extra names case-insensitively and keep a same-length name that is not on the list, including
    /// Berth-Generation, which the codec knows by kind (beside the same-length Proxy-Connection) but drops only when told.
    func testAlsoDropIsMatchedByName() throws {
        var options = ForwardOptions()
        options.alsoDrop = ["Berth-Socket-Timeout", "berth-generation"]
        let out = try forward("GET / HTTP/1.1\r\nHost: a\r\nberth-socket-TIMEOUT: 2s\r\nBerth-Socket-Timeouu: 1\r\n"
                              + "BERTH-Generation: c0ffee\r\nProxy-Connection: x\r\nBerth-Generatiom: 1\r\n\r\n", options: options)
        XCTAssertEqual(out, "GET / HTTP/1.1\r\nHost: example.com\r\nBerth-Socket-Timeouu: 1\r\nBerth-Generatiom: 1\r\n\r\n")
        XCTAssertEqual(try forward("GET / HTTP/1.1\r\nHost: a\r\nBerth-Generation: c0ffee\r\n\r\n"),
                       "GET / HTTP/1.1\r\nHost: example.com\r\nBerth-Generation: c0ffee\r\n\r\n")
    }

    /// Regression (e2e smuggling corpus): an underscore look-alike of a framing field must not reach servers that read '_' as '-'.
    func testUnderscoreLookalikesOfFramingFieldsAreNotForwarded() throws {
        let out = try forward("POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer_Encoding: chunked\r\nCONTENT_length: 9\r\nX_Other: 1\r\n\r\n")
        XCTAssertTrue(out.contains("Content-Length: 3\r\n"))
        XCTAssertFalse(out.lowercased().contains("transfer_encoding"))
        XCTAssertFalse(out.lowercased().contains("content_length"))
        XCTAssertTrue(out.contains("X_Other: 1\r\n"), "other underscore names are left alone")
    }

    func testConnectionCannotStripFramingFields() throws {
        XCTAssertEqual(try forward("POST / HTTP/1.1\r\nHost: a\r\nConnection: Content-Length\r\nContent-Length: 2\r\n\r\n"),
                       "POST / HTTP/1.1\r\nHost: example.com\r\nContent-Length: 2\r\n\r\n")
    }

    func testFixedHopByHopFieldsAreDropped() throws {
        let input = "GET / HTTP/1.1\r\nHost: a\r\nKeep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\n"
            + "Proxy-Authorization: Basic eA==\r\nTE: trailers\r\nTrailer: X\r\nUpgrade: h2c\r\nA: 1\r\n\r\n"
        XCTAssertEqual(try forward(input), "GET / HTTP/1.1\r\nHost: example.com\r\nA: 1\r\n\r\n")
    }

    func testAnUpgradingRequestKeepsUpgradeAndSaysConnectionUpgrade() throws {
        XCTAssertEqual(try forward("GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: k\r\n\r\n"),
                       "GET /ws HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\nConnection: upgrade\r\n\r\n")
    }

    func testAlsoDropAndViaAreApplied() throws {
        var o = ForwardOptions()
        o.alsoDrop = ["x-berth-route"]
        o.via = "1.1 berth"
        XCTAssertEqual(try forward("GET / HTTP/1.1\r\nHost: a\r\nX-Berth-Route: r1\r\nVia: 1.0 old\r\n\r\n", options: o),
                       "GET / HTTP/1.1\r\nHost: example.com\r\nVia: 1.0 old\r\nVia: 1.1 berth\r\n\r\n")
    }

    func testHTTP10RequestsStayHTTP10AndAskForKeepAlive() throws {
        XCTAssertEqual(try forward("GET http://a/x HTTP/1.0\r\nConnection: close\r\n\r\n"),
                       "GET /x HTTP/1.0\r\nHost: example.com\r\nConnection: keep-alive\r\n\r\n")
    }

    func testConnectKeepsItsAuthorityTarget() throws {
        XCTAssertEqual(try forward("CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", host: "a:443"),
                       "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n")
    }

    func testResponsesDropHopByHopAndSetConnectionFromKeepAlive() throws {
        let r = "HTTP/1.1 200 OK\r\nConnection: close, X-Hop\r\nX-Hop: 1\r\nKeep-Alive: timeout=5\r\nContent-Length: 0\r\n\r\n"
        XCTAssertEqual(try forwardResponse(r, keepAlive: true), "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        XCTAssertEqual(try forwardResponse(r, keepAlive: false), "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        XCTAssertEqual(try forwardResponse(r, caller: .http10, keepAlive: true),
                       "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n")
    }

    func testResponsesKeepEmptyReasonsAndAddVia() throws {
        var o = ForwardOptions()
        o.via = "1.1 berth"
        XCTAssertEqual(try forwardResponse("HTTP/1.0 404\r\nUpgrade: x\r\n\r\n", options: o), "HTTP/1.1 404 \r\nVia: 1.1 berth\r\n\r\n")
    }

    func testA101ResponseKeepsUpgrade() throws {
        XCTAssertEqual(try forwardResponse("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"),
                       "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n")
    }
}
