// Tests of finding a proxy's own received-by among a request's Via elements (loop detection).
import XCTest
@testable import HTTP1

final class ViaTokenTests: XCTestCase {
    func head(_ fields: String) throws -> RequestHead {
        var p = RequestHeadParser()
        let b = [UInt8]("GET / HTTP/1.1\r\nHost: a\r\n\(fields)\r\n".utf8)
        _ = try b.withUnsafeBytes { (r) throws(HTTP1Error) in try p.parse(r) }
        return p.head
    }

    let me = Array("berth-3f9a1c2b".utf8)

    /// Should mark a head with Via and find the name in any element of any Via line.
    func testFindsOwnNameInAnyElement() throws {
        for fields in ["Via: 1.1 berth-3f9a1c2b\r\n", "Via: 1.0 fred, 1.1 berth-3f9a1c2b (berth)\r\n",
                       "via: 1.0 fred\r\nVIA:  HTTP/1.1  berth-3f9a1c2b\r\n", "Via: berth-3f9a1c2b\r\n"] {
            let h = try head(fields)
            XCTAssertTrue(h.hasVia, fields)
            XCTAssertTrue(h.headers.viaNames(me), fields)
        }
    }

    /// Should not match other proxies, longer names, a comment or a head without Via.
    func testIgnoresOtherNames() throws {
        for fields in ["Via: 1.1 berth\r\n", "Via: 1.1 berth-3f9a1c2b0\r\n", "Via: 1.1 xberth-3f9a1c2b\r\n",
                       "Via: 1.1 squid (berth-3f9a1c2b)\r\n", "X-Via: 1.1 berth-3f9a1c2b\r\n"] {
            XCTAssertFalse(try head(fields).headers.viaNames(me), fields)
        }
        XCTAssertFalse(try head("X-Via: 1.1 berth-3f9a1c2b\r\n").hasVia)
        XCTAssertFalse(try head("Via: 1.1 berth-3f9a1c2b\r\n").headers.viaNames([]))
    }
}
