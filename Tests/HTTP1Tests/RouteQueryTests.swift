// Tests of the request head's per-request queries that stand in for lookups by name: the route bytes and the
// Berth-Socket-Timeout presence bit.
import XCTest
@testable import HTTP1

final class RouteQueryTests: XCTestCase {
    func request(_ text: String) throws -> RequestHead {
        var p = RequestHeadParser()
        let b = [UInt8](text.utf8)
        _ = try b.withUnsafeBytes { (r) throws(HTTP1Error) in try p.parse(r) }
        return p.head
    }

    /// The bytes the route cache remembered before `namesRoute(as:)`: the scheme and authority of an absolute-form
    /// target, the first Host value of the others, none for authority-form.
    func routeBytes(_ h: RequestHead) -> [UInt8]? {
        switch h.targetForm {
        case .absolute: return h.withSchemeAndAuthorityBytes { $0.map { Array($0) } }
        case .origin, .asterisk: return h.headers.firstIndex(named: "host").map { h.headers.withValueBytes(at: $0) { Array($0) } }
        case .authority: return nil
        }
    }

    /// Should say a head names its route with exactly the bytes the old closure lent, and with no other bytes (a
    /// near miss of the same length in the last byte, past the first word, or shorter and longer), in every form,
    /// also when the head has more known lines than its records hold.
    func testNamesRouteAsTheBytesTheHeadLends() throws {
        let vias = (0..<10).map { "Via: 1.1 hop\($0)\r\n" }.joined()
        let heads = ["GET /x HTTP/1.1\r\nHost: Api.Internal\r\n\r\n",
                     "GET /x HTTP/1.1\r\nUser-Agent: a\r\nHost:   api.internal:8080  \r\nAccept: */*\r\n\r\n",
                     "GET /x HTTP/1.1\r\n\(vias)Host: overflowed.example:81\r\n\r\n",
                     "OPTIONS * HTTP/1.1\r\nHost: fn\r\n\r\n",
                     "GET http://API.internal:8080/x?q HTTP/1.1\r\nHost: other\r\n\r\n",
                     "GET HTTP://fn.?q HTTP/1.1\r\nHost: x\r\n\r\n",
                     "GET https://fn:443 HTTP/1.1\r\nHost: x\r\n\r\n",
                     "GET http://127.0.0.1:8080/b2 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"]
        for text in heads {
            let h = try request(text)
            let bytes = try XCTUnwrap(routeBytes(h), text)
            XCTAssertTrue(h.namesRoute(as: bytes), text)
            var lastChanged = bytes
            lastChanged[lastChanged.count - 1] ^= 0x01
            XCTAssertFalse(h.namesRoute(as: lastChanged), text)
            var firstChanged = bytes
            firstChanged[0] ^= 0x20
            XCTAssertFalse(h.namesRoute(as: firstChanged), text)
            XCTAssertFalse(h.namesRoute(as: Array(bytes.dropLast())), text)
            XCTAssertFalse(h.namesRoute(as: bytes + [0x2F]), text)
            XCTAssertFalse(h.namesRoute(as: []), text)
        }
        XCTAssertTrue(try request(heads[2]).headers.overflowed)
        // No route bytes: an origin-form HTTP/1.0 head without Host, an authority-form one (even with the same Host), and an
        // empty Host value, which the empty cache (nothing remembered) must not match.
        XCTAssertFalse(try request("GET /x HTTP/1.0\r\nUser-Agent: a\r\n\r\n").namesRoute(as: Array("a".utf8)))
        XCTAssertFalse(try request("CONNECT db:5432 HTTP/1.1\r\nHost: db:5432\r\n\r\n").namesRoute(as: Array("db:5432".utf8)))
        let empty = try request("GET /x HTTP/1.1\r\nHost:\r\n\r\n")
        XCTAssertEqual(routeBytes(empty), [])
        XCTAssertFalse(empty.namesRoute(as: []))
    }

    /// Should set the presence bit exactly when a field of that name (any case) is there, records overflowed or not,
    /// and never for a near-miss name.
    func testNamesSocketTimeoutIsThePresenceOfTheField() throws {
        let vias = (0..<10).map { "Via: 1.1 hop\($0)\r\n" }.joined()
        let cases: [(String, Bool)] = [
            ("Host: a\r\n", false),
            ("Host: a\r\nBerth-Socket-Timeouu: 1\r\n", false),
            ("Host: a\r\nBERTH-socket-TIMEOUT: 2s\r\n", true),
            ("Host: a\r\n\(vias)Berth-Socket-Timeout: 2s\r\n", true),
            ("Host: a\r\n\(vias)X-Berth-Socket-Timeout: 2s\r\n", false),
        ]
        for (fields, expected) in cases {
            let h = try request("GET / HTTP/1.1\r\n\(fields)\r\n")
            XCTAssertEqual(h.namesSocketTimeout, expected, fields)
            XCTAssertEqual(h.headers["berth-socket-timeout"] != nil, expected, fields)
        }
    }
}
