// The header classification table: each row is found in any letter case, and nothing else is.
@testable import HTTP1
import XCTest

final class KnownHeaderTests: XCTestCase {
    static let rows: [(String, KnownHeader)] = [
        ("host", .host), ("content-length", .contentLength), ("transfer-encoding", .transferEncoding),
        ("connection", .connection), ("upgrade", .upgrade), ("expect", .expect), ("keep-alive", .keepAlive),
        ("proxy-connection", .proxyConnection), ("proxy-authorization", .proxyAuthorization), ("te", .te),
        ("trailer", .trailer), ("via", .via), ("berth-error", .berthError), ("berth-generation", .berthGeneration),
        ("berth-socket-timeout", .berthSocketTimeout), ("berth-upstream-error", .berthUpstreamError),
        ("traceparent", .traceparent), ("close", .close),
    ]

    func classify(_ s: String) -> KnownHeader {
        Array(s.utf8).withUnsafeBytes { KnownHeader.classify($0) }
    }

    func testEveryRowInAnyCase() {
        for (name, kind) in Self.rows {
            XCTAssertEqual(classify(name), kind, name)
            XCTAssertEqual(kind.nameLength, name.utf8.count, name)
            XCTAssertEqual(classify(name.uppercased()), kind, name)
            XCTAssertEqual(classify(String(name.prefix(1)).uppercased() + name.dropFirst()), kind, name)
        }
    }

    /// Names sharing a row's length and first letter, or one byte off it, are not that row.
    func testNearNamesAreOther() {
        for name in ["user-agent", "accept", "date", "server", "content-type", "hosT2", "hos", "hosts", "conteNt-lengtH_",
                     "connectiom", "xonnection", "", "t", "tee", "vie", "berth-errors", "clos", "closed", "berth-socket-timeouu",
                     "traceparenT_", "content_lengtx", "transfer_encodinG2", "_ontent-length", "content-lengt_"] {
            XCTAssertEqual(classify(name), .other, name)
        }
        // Bytes that equal a row's letters only once 0x20 is set are not those letters.
        XCTAssertEqual(classify("\u{08}ost"), .other)
        XCTAssertEqual(classify("Ho\u{13}t"), .other)
    }

    /// Framing names with any '-' written as '_', in any case, are their own kind (never forwarded).
    func testFramingLookalikes() {
        for name in ["content_length", "CONTENT_length", "Transfer_Encoding", "transfer_encoding"] {
            XCTAssertEqual(classify(name), .framingLookalike, name)
        }
    }

    /// The filter on length and first byte lets every row through in either case and stops names no row can match.
    func testTheFirstByteFilterPassesEveryRow() {
        for (name, _) in Self.rows {
            for spelling in [name, name.uppercased()] {
                let bytes = Array(spelling.utf8)
                XCTAssertNotEqual(KnownHeader.firstBytes(ofLength: bytes.count) & (1 << UInt32(bytes[0] & 31)), 0, spelling)
            }
        }
        XCTAssertEqual(KnownHeader.firstBytes(ofLength: 6) & (1 << UInt32(UInt8(ascii: "s") & 31)), 0, "Server")
        XCTAssertEqual(KnownHeader.firstBytes(ofLength: 4) & (1 << UInt32(UInt8(ascii: "d") & 31)), 0, "Date")
    }
}
