// Rule-by-rule tests of the response-head parser and response framing.
import XCTest
@testable import HTTP1

final class ResponseParserTests: XCTestCase {
    func parsed(_ s: String, file: StaticString = #filePath, line: UInt = #line) -> ResponseHead? {
        parsedWhole(ResponseHeadParser.self, s, file: file, line: line)
    }

    func testEveryInvalidResponseFixtureIsRefusedWithItsExactError() {
        for (input, expected) in invalidResponses {
            XCTAssertEqual(parseResponse([UInt8](input)), .failed(expected), input.debugDescription)
        }
    }

    func testEveryValidResponseFixtureParses() {
        for input in validResponses {
            guard case .head = parseResponse([UInt8](input)) else {
                XCTFail("refused: \(input.debugDescription) -> \(parseResponse([UInt8](input)))"); continue
            }
        }
    }

    func testStatusLineGivesVersionStatusAndReason() throws {
        let h = try XCTUnwrap(parsed("HTTP/1.0 404 Not Found\r\nContent-Length: 3\r\n\r\n"))
        XCTAssertEqual(h.version, .http10)
        XCTAssertEqual(h.status, 404)
        XCTAssertEqual(h.reason, "Not Found")
        XCTAssertEqual(h.headers["content-length"], "3")
        XCTAssertFalse(h.keepAlive)
    }

    func testAnEmptyReasonIsAcceptedWithOrWithoutItsSpace() {
        XCTAssertEqual(parsed("HTTP/1.1 200 \r\n\r\n")?.reason, "")
        XCTAssertEqual(parsed("HTTP/1.1 200\r\n\r\n")?.reason, "")
    }

    func testFramingDependsOnStatusAndRequestMethod() throws {
        let cl = try XCTUnwrap(parsed("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n"))
        XCTAssertEqual(cl.framing(requestMethod: .get), .contentLength(12))
        XCTAssertEqual(cl.framing(requestMethod: .head), BodyFraming.none)
        XCTAssertEqual(cl.framing(requestMethod: .connect), BodyFraming.none)
        XCTAssertEqual(parsed("HTTP/1.1 407 No\r\nContent-Length: 12\r\n\r\n")?.framing(requestMethod: .connect), .contentLength(12))
        XCTAssertEqual(parsed("HTTP/1.1 204 No Content\r\n\r\n")?.framing(requestMethod: .get), BodyFraming.none)
        XCTAssertEqual(parsed("HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n")?.framing(requestMethod: .get), BodyFraming.none)
        XCTAssertEqual(parsed("HTTP/1.1 100 Continue\r\n\r\n")?.framing(requestMethod: .post), BodyFraming.none)
        XCTAssertEqual(parsed("HTTP/1.1 200 OK\r\n\r\n")?.framing(requestMethod: .get), .untilClose)
        XCTAssertEqual(parsed("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n")?.framing(requestMethod: .get), .chunked)
        XCTAssertEqual(parsed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n")?.framing(requestMethod: .get), .untilClose)
        XCTAssertEqual(parsed("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n")?.framing(requestMethod: .get), .untilClose)
    }

    /// An HTTP/1.0 response naming a transfer coding has faulty framing (RFC 9112 6.1): refused, as requests are.
    func testHTTP10ResponseWithTransferEncodingIsRefused() {
        XCTAssertEqual(parseResponse([UInt8]("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")), .failed(.invalidTransferEncoding))
        XCTAssertEqual(parseResponse([UInt8]("HTTP/1.0 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n")), .failed(.invalidTransferEncoding))
    }

    func testHandBuiltHeadsAreFramedFromTheirHeaders() {
        var h = ResponseHead()
        h.headers.append(name: "Content-Length", value: "7")
        XCTAssertEqual(h.framing(requestMethod: .get), .contentLength(7))
        XCTAssertEqual(h.reason, "OK")
    }

    func testKeepAliveFollowsVersionAndConnection() {
        XCTAssertEqual(parsed("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")?.keepAlive, true)
        XCTAssertEqual(parsed("HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 0\r\n\r\n")?.keepAlive, false)
        XCTAssertEqual(parsed("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n")?.keepAlive, true)
    }

    func testConsumedLeavesTheBodyInTheSlice() {
        let s = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
        guard case .head(_, let consumed) = parseResponse([UInt8](s)) else { return XCTFail() }
        XCTAssertEqual(consumed, s.utf8.count - 5)
    }
}
