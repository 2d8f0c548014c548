// Tests of how header fields are stored: lines without a record are found by scanning, heads with more known lines
// than the records hold, and forwarding decisions that depend on names only a scan can see.
import XCTest
@testable import HTTP1

final class HeaderStorageTests: XCTestCase {
    func request(_ fields: String, target: String = "/") throws -> RequestHead {
        var p = RequestHeadParser()
        let b = [UInt8]("GET \(target) HTTP/1.1\r\n\(fields)\r\n".utf8)
        _ = try b.withUnsafeBytes { (r) throws(HTTP1Error) in try p.parse(r) }
        return p.head
    }

    func forward(_ head: RequestHead, options: ForwardOptions = ForwardOptions()) -> String {
        var out: [UInt8] = []
        HeadSerializer.writeForwardRequest(head, host: "u", options: options, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Should answer every index and name lookup alike for known lines (records) and other lines (scanned), including
    /// a name that passes the known-name filter (length and first byte) without being known.
    func testLookupsSeeEveryLine() throws {
        let h = try request("Host: a\r\nBerth-Socket-Timeouu:  1 \r\nUser-Agent: x\r\nContent-Length: 0\r\nX-Empty:\r\nhost2: b\r\n")
        XCTAssertEqual(h.headers.count, 6)
        XCTAssertEqual(h.headers.elements.map(\.name), ["Host", "Berth-Socket-Timeouu", "User-Agent", "Content-Length", "X-Empty", "host2"])
        XCTAssertEqual(h.headers.elements.map(\.value), ["a", "1", "x", "0", "", "b"])
        for i in 0..<h.headers.count {
            XCTAssertEqual(h.headers.name(at: i), h.headers.elements[i].name)
            XCTAssertEqual(h.headers.value(at: i), h.headers.elements[i].value)
        }
        XCTAssertNil(h.headers["berth-socket-timeout"])
        XCTAssertEqual(h.headers["BERTH-SOCKET-TIMEOUU"], "1")
        XCTAssertEqual(h.headers.firstIndex(named: "content-length"), 3)
        XCTAssertEqual(h.headers.firstIndex(named: "x-empty"), 4)
        XCTAssertEqual(h.headers.withLineBytes(at: 1) { String(decoding: $0, as: UTF8.self) }, "Berth-Socket-Timeouu:  1 ")
        XCTAssertNil(h.headers.firstIndex(named: "transfer-encoding"))
    }

    /// Should forward, look up and gather facts the same when a head has more known lines than the records hold.
    func testAHeadWithManyKnownLines() throws {
        let vias = (0..<10).map { "Via: 1.1 hop\($0)\r\n" }.joined()
        let h = try request("Host: a\r\n\(vias)Connection: X-Hop, close\r\nX-Hop: 1\r\nKeep: 2\r\nContent-Length: 4\r\n")
        XCTAssertTrue(h.headers.overflowed)
        XCTAssertEqual(h.framing, .contentLength(4))
        XCTAssertFalse(h.keepAlive)
        XCTAssertTrue(h.headers.viaNames(Array("hop9".utf8)))
        XCTAssertEqual(h.headers.indices(named: "via").count, 10)
        XCTAssertEqual(h.headers["content-length"], "4")
        XCTAssertEqual(forward(h), "GET / HTTP/1.1\r\nHost: u\r\n\(vias)Keep: 2\r\nContent-Length: 4\r\n\r\n")
    }

    /// Should drop a field named `Close` when Connection lists close, as any field Connection names.
    func testConnectionCloseDropsAFieldNamedClose() throws {
        let h = try request("Host: a\r\nClose: 1\r\nConnection: close\r\nA: 2\r\n")
        XCTAssertFalse(h.keepAlive)
        XCTAssertEqual(forward(h), "GET / HTTP/1.1\r\nHost: u\r\nA: 2\r\n\r\n")
        XCTAssertEqual(forward(try request("Host: a\r\nClose: 1\r\nA: 2\r\n")), "GET / HTTP/1.1\r\nHost: u\r\nClose: 1\r\nA: 2\r\n\r\n")
    }

    /// Should decide a renamed Berth-Error by its new name: Connection listing Berth-Upstream-Error drops it, listing
    /// Berth-Error does not.
    func testARenamedBerthErrorGoesByItsNewName() throws {
        func forwardResponse(_ s: String) throws -> String {
            var p = ResponseHeadParser()
            let b = [UInt8](s.utf8)
            _ = try b.withUnsafeBytes { (r) throws(HTTP1Error) in try p.parse(r) }
            var out: [UInt8] = []
            HeadSerializer.writeForwardResponse(p.head, callerVersion: .http11, keepAlive: true, options: ForwardOptions(), into: &out)
            return String(decoding: out, as: UTF8.self)
        }
        XCTAssertEqual(try forwardResponse("HTTP/1.1 502 X\r\nConnection: berth-upstream-error\r\nBerth-Error: a\r\nB: 1\r\n\r\n"),
                       "HTTP/1.1 502 X\r\nB: 1\r\n\r\n")
        XCTAssertEqual(try forwardResponse("HTTP/1.1 502 X\r\nConnection: Berth-Error\r\nBerth-Error: a\r\nB: 1\r\n\r\n"),
                       "HTTP/1.1 502 X\r\nBerth-Upstream-Error: a\r\nB: 1\r\n\r\n")
        XCTAssertEqual(try forwardResponse("HTTP/1.1 502 X\r\nBerth-Upstream-Error: z\r\nConnection: berth-upstream-error\r\n\r\n"),
                       "HTTP/1.1 502 X\r\n\r\n")
    }

    /// Should keep a head whole after removing fields by name, its known lines and Connection's names included.
    func testRemovingFieldsRebuildsTheRecords() throws {
        var h = try request("Host: a\r\nX-A: 1\r\nConnection: x-b\r\nX-B: 2\r\nX-A: 3\r\nContent-Length: 1\r\n")
        h.headers.removeAll(named: "x-a")
        XCTAssertEqual(h.headers.elements.map(\.name), ["Host", "Connection", "X-B", "Content-Length"])
        XCTAssertEqual(h.headers["content-length"], "1")
        XCTAssertEqual(forward(h), "GET / HTTP/1.1\r\nHost: u\r\nContent-Length: 1\r\n\r\n")
    }

    /// Should keep nothing of a parsed head in the next one parsed by the same parser.
    func testAReusedParserForgetsTheLastHead() throws {
        var p = RequestHeadParser()
        for (fields, expected) in [("Host: a\r\nConnection: x-c\r\nX-C: 1\r\nVia: 1.1 v\r\n", "GET / HTTP/1.1\r\nHost: u\r\nVia: 1.1 v\r\n\r\n"),
                                   ("Host: a\r\nX-C: 1\r\n", "GET / HTTP/1.1\r\nHost: u\r\nX-C: 1\r\n\r\n")] {
            let b = [UInt8]("GET / HTTP/1.1\r\n\(fields)\r\n".utf8)
            _ = try b.withUnsafeBytes { (r) throws(HTTP1Error) in try p.parse(r) }
            XCTAssertEqual(forward(p.head), expected)
            p.reset()
        }
    }
    /// Should note a Connection value the same whether the `keep-alive` fast path takes it (any letter case) or the
    /// classification does: ten-byte values that are not `keep-alive` are other names, lists are walked.
    func testConnectionValuesAreNotedAlikeOnAndOffTheKeepAliveFastPath() throws {
        let keepAlive = KnownHeader.keepAlive.bit
        for v in ["keep-alive", "Keep-Alive", "KEEP-ALIVE", "kEeP-aLiVe"] {
            let h = try request("Host: a\r\nConnection: \(v)\r\n").headers
            XCTAssertEqual(h.connectionKinds, keepAlive, v)
            XCTAssertEqual(h.connectionOtherLengths, 0, v)
        }
        for v in ["keep-alivx", "keep_alive", "xkeep-aliv", "keep=alive", "KEEP-ALIVX"] {
            let h = try request("Host: a\r\nConnection: \(v)\r\n").headers
            XCTAssertEqual(h.connectionKinds, 0, v)
            XCTAssertEqual(h.connectionOtherLengths, NameLengths.bit(v.utf8.count), v)
        }
        let list = try request("Host: a\r\nConnection: keep-alive, close, x-one\r\n").headers
        XCTAssertEqual(list.connectionKinds, keepAlive | KnownHeader.close.bit)
        XCTAssertEqual(list.connectionOtherLengths, NameLengths.bit(5))
        XCTAssertEqual(try request("Host: a\r\nConnection: close\r\n").headers.connectionKinds, KnownHeader.close.bit)
    }
}
