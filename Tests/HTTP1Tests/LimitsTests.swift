// Tests that every HTTP1Limits bound is enforced, and enforced before the line ends.
import XCTest
@testable import HTTP1

final class LimitsTests: XCTestCase {
    func testALongRequestLineIs414EvenBeforeItsCRLFArrives() {
        var limits = HTTP1Limits()
        limits.maxStartLineBytes = 32
        let head = "GET /" + String(repeating: "a", count: 40)
        XCTAssertEqual(parseRequest([UInt8](head), limits: limits), .failed(.startLineTooLong))
        XCTAssertEqual(HTTP1Error.startLineTooLong.status, 414)
        let fits = "GET /" + String(repeating: "a", count: 18) + " HTTP/1.1"
        XCTAssertEqual(fits.utf8.count, 32)
        guard case .head = parseRequest([UInt8](fits + "\r\nHost: a\r\n\r\n"), limits: limits) else { return XCTFail() }
    }

    func testTheDefaultRequestLineLimitIs8KiB() {
        let line = "GET /" + String(repeating: "a", count: 8 * 1024) + " HTTP/1.1\r\nHost: a\r\n\r\n"
        XCTAssertEqual(parseRequest([UInt8](line)), .failed(.startLineTooLong))
    }

    func testALargeHeaderSectionIs431EvenBeforeItsLineEnds() {
        var limits = HTTP1Limits()
        limits.maxHeaderSectionBytes = 64
        let head = "GET / HTTP/1.1\r\nHost: a\r\nX: " + String(repeating: "v", count: 100)
        XCTAssertEqual(parseRequest([UInt8](head), limits: limits), .failed(.headerSectionTooLarge))
    }

    func testTheDefaultHeaderSectionLimitIs64KiB() {
        let big = "GET / HTTP/1.1\r\nHost: a\r\nX: " + String(repeating: "v", count: 65 * 1024) + "\r\n\r\n"
        XCTAssertEqual(parseRequest([UInt8](big)), .failed(.headerSectionTooLarge))
    }

    func testMoreThanMaxHeaderCountFieldsIs431() {
        let ninetyNine = (0..<99).map { "X-\($0): v\r\n" }.joined()
        guard case .head = parseRequest([UInt8]("GET / HTTP/1.1\r\nHost: a\r\n" + ninetyNine + "\r\n")) else {
            return XCTFail("Host plus 99 fields is exactly the limit")
        }
        let hundred = ninetyNine + "X-last: v\r\n"
        XCTAssertEqual(parseRequest([UInt8]("GET / HTTP/1.1\r\nHost: a\r\n" + hundred + "\r\n")), .failed(.tooManyHeaders))
    }

    func testALongStatusLineIsAnInvalidStatusLine() {
        var limits = HTTP1Limits()
        limits.maxStartLineBytes = 20
        XCTAssertEqual(parseResponse([UInt8]("HTTP/1.1 200 " + String(repeating: "x", count: 30)), limits: limits), .failed(.invalidStatusLine))
    }

    func testALongChunkLineAndLargeTrailersAreRefused() {
        var limits = HTTP1Limits()
        limits.maxChunkLineBytes = 16
        limits.maxTrailerBytes = 16
        let ext = "5;" + String(repeating: "e", count: 30) + "\r\nhello\r\n0\r\n\r\n"
        XCTAssertEqual(describe(decodeBody([UInt8](ext), framing: .chunked, limits: limits)), "failed(invalidChunkFraming)")
        let trailer = "0\r\nX: " + String(repeating: "t", count: 30) + "\r\n\r\n"
        XCTAssertEqual(describe(decodeBody([UInt8](trailer), framing: .chunked, limits: limits)), "failed(trailerTooLarge)")
    }
}

func describe(_ r: Result<(consumed: Int, complete: Bool), HTTP1Error>) -> String {
    switch r {
    case .success(let v): return "ok(\(v.consumed), complete: \(v.complete))"
    case .failure(let e): return "failed(\(e))"
    }
}
