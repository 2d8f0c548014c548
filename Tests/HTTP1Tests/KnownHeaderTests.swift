// The header classification table: each row is found in any letter case, and nothing else is.
@testable import HTTP1
import XCTest

final class KnownHeaderTests: XCTestCase {
    static let rows: [(String, KnownHeader)] = [
        ("host", .host), ("content-length", .contentLength), ("transfer-encoding", .transferEncoding),
        ("connection", .connection), ("upgrade", .upgrade), ("expect", .expect), ("keep-alive", .keepAlive),
        ("proxy-connection", .proxyConnection), ("proxy-authorization", .proxyAuthorization), ("te", .te),
        ("trailer", .trailer), ("via", .via), ("berth-error", .berthError),
    ]

    func classify(_ s: String) -> KnownHeader {
        Array(s.utf8).withUnsafeBytes { KnownHeader.classify($0) }
    }

    func testEveryRowInAnyCase() {
        for (name, kind) in Self.rows {
            XCTAssertEqual(classify(name), kind, name)
            XCTAssertEqual(classify(name.uppercased()), kind, name)
            XCTAssertEqual(classify(String(name.prefix(1)).uppercased() + name.dropFirst()), kind, name)
        }
    }

    /// Names sharing a row's length and first letter, or one byte off it, are not that row.
    func testNearNamesAreOther() {
        for name in ["user-agent", "accept", "date", "server", "content-type", "hosT2", "hos", "hosts", "conteNt-lengtH_",
                     "content_length", "transfer_encoding", "connectiom", "xonnection", "", "t", "tee", "vie", "berth-errors"] {
            XCTAssertEqual(classify(name), .other, name)
        }
        // Bytes that equal a row's letters only once 0x20 is set are not those letters.
        XCTAssertEqual(classify("\u{08}ost"), .other)
        XCTAssertEqual(classify("Ho\u{13}t"), .other)
    }
}
