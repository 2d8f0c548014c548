// Rule-by-rule tests of the request-head parser against byte fixtures.
import XCTest
@testable import HTTP1

final class RequestParserTests: XCTestCase {
    func parsed(_ s: String, file: StaticString = #filePath, line: UInt = #line) -> RequestHead? {
        parsedWhole(RequestHeadParser.self, s, file: file, line: line)
    }

    func testEveryInvalidRequestFixtureIsRefusedWithItsExactError() {
        for (input, expected) in invalidRequests {
            XCTAssertEqual(parseRequest([UInt8](input)), .failed(expected), input.debugDescription)
        }
    }

    func testEveryValidRequestFixtureParses() {
        for input in validRequests {
            guard case .head = parseRequest([UInt8](input)) else {
                XCTFail("refused: \(input.debugDescription) -> \(parseRequest([UInt8](input)))"); continue
            }
        }
    }

    func testErrorsMapToTheStatusesOfTheIssue() {
        XCTAssertEqual(HTTP1Error.contentLengthWithTransferEncoding.status, 400)
        XCTAssertEqual(HTTP1Error.unsupportedTransferEncoding.status, 501)
        XCTAssertEqual(HTTP1Error.invalidTransferEncoding.status, 400)
        XCTAssertEqual(HTTP1Error.unsupportedVersion.status, 505)
        XCTAssertEqual(HTTP1Error.invalidVersion.status, 400)
        XCTAssertEqual(HTTP1Error.startLineTooLong.status, 414)
        XCTAssertEqual(HTTP1Error.headerSectionTooLarge.status, 431)
        XCTAssertEqual(HTTP1Error.tooManyHeaders.status, 431)
        XCTAssertEqual(HTTP1Error.missingHost.status, 400)
        XCTAssertEqual(HTTP1Error.conflictingHost.status, 400)
        XCTAssertEqual(HTTP1Error.bareLF.name, "bare-lf")
        XCTAssertEqual(HTTP1Error.contentLengthWithTransferEncoding.name, "content-length-with-transfer-encoding")
    }

    func testOriginFormGivesMethodTargetPathAndHeaders() throws {
        let h = try XCTUnwrap(parsed("GET /index.html?q=1 HTTP/1.1\r\nHost: Example.com:8080\r\nAccept:  */* \r\n\r\n"))
        XCTAssertEqual(h.method, .get)
        XCTAssertEqual(h.targetForm, .origin)
        XCTAssertEqual(h.target, "/index.html?q=1")
        XCTAssertEqual(h.path, "/index.html?q=1")
        XCTAssertNil(h.targetAuthority)
        XCTAssertNil(h.scheme)
        XCTAssertEqual(h.version, .http11)
        XCTAssertEqual(h.headers.count, 2)
        XCTAssertEqual(h.headers["host"], "Example.com:8080")
        XCTAssertEqual(h.headers["ACCEPT"], "*/*")
        XCTAssertEqual(h.framing, .none)
        XCTAssertTrue(h.keepAlive)
    }

    func testAbsoluteFormGivesCanonicalAuthoritySchemeAndPath() throws {
        let h = try XCTUnwrap(parsed("GET http://Example.COM:8080/p?q HTTP/1.1\r\nHost: x\r\n\r\n"))
        XCTAssertEqual(h.targetForm, .absolute)
        XCTAssertEqual(h.target, "http://Example.COM:8080/p?q")
        XCTAssertEqual(h.targetAuthority, Authority(host: "example.com", port: 8080))
        XCTAssertEqual(h.scheme, "http")
        XCTAssertEqual(h.path, "/p?q")
    }

    func testAbsoluteFormWithEmptyPathForwardsSlash() throws {
        XCTAssertEqual(parsed("GET http://a HTTP/1.1\r\nHost: a\r\n\r\n")?.path, "/")
        XCTAssertEqual(parsed("GET http://a?x=1 HTTP/1.1\r\nHost: a\r\n\r\n")?.path, "/?x=1")
        XCTAssertEqual(parsed("GET HTTPS://[2001:DB8::1]/ HTTP/1.1\r\nHost: a\r\n\r\n")?.targetAuthority,
                       Authority(host: "[2001:db8::1]", port: nil))
        XCTAssertEqual(parsed("GET HTTPS://a/ HTTP/1.1\r\nHost: a\r\n\r\n")?.scheme, "https")
    }

    func testConnectTakesAuthorityFormWithPort() throws {
        let h = try XCTUnwrap(parsed("CONNECT Example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"))
        XCTAssertEqual(h.method, .connect)
        XCTAssertEqual(h.targetForm, .authority)
        XCTAssertEqual(h.targetAuthority, Authority(host: "example.com", port: 443))
        XCTAssertEqual(h.path, "")
        XCTAssertEqual(h.target, "Example.com:443")
    }

    func testAsteriskFormOnlyWithOptions() throws {
        let h = try XCTUnwrap(parsed("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"))
        XCTAssertEqual(h.targetForm, .asterisk)
        XCTAssertEqual(h.path, "*")
        XCTAssertEqual(parseRequest([UInt8]("HEAD * HTTP/1.1\r\nHost: a\r\n\r\n")), .failed(.invalidTarget))
    }

    func testAnOptionsOfABareAuthorityGoesOnAsAsterisk() throws {
        // RFC 9112 3.2.4: the last proxy sends an OPTIONS of an empty path and no query as `*`.
        let h = try XCTUnwrap(parsed("OPTIONS http://a:8080 HTTP/1.1\r\nHost: a\r\n\r\n"))
        XCTAssertEqual(h.targetForm, .absolute)
        XCTAssertEqual(h.path, "*")
        XCTAssertEqual(try XCTUnwrap(parsed("OPTIONS http://a:8080?q HTTP/1.1\r\nHost: a\r\n\r\n")).path, "/?q")
        XCTAssertEqual(try XCTUnwrap(parsed("OPTIONS http://a:8080/ HTTP/1.1\r\nHost: a\r\n\r\n")).path, "/")
        XCTAssertEqual(try XCTUnwrap(parsed("GET http://a:8080 HTTP/1.1\r\nHost: a\r\n\r\n")).path, "/")
    }

    func testLeadingEmptyLinesBeforeTheRequestLineAreIgnored() {
        let r = parseRequest([UInt8]("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\nNEXT"))
        guard case .head(_, let consumed) = r else { return XCTFail("\(r)") }
        XCTAssertEqual(consumed, 31)
    }

    func testConsumedStopsAtTheEndOfTheHead() {
        let s = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET"
        guard case .head(_, let consumed) = parseRequest([UInt8](s)) else { return XCTFail() }
        XCTAssertEqual(consumed, s.utf8.count - 6)
    }

    func testFramingComesFromContentLengthOrChunked() {
        XCTAssertEqual(parsed("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 42\r\n\r\n")?.framing, .contentLength(42))
        XCTAssertEqual(parsed("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 7, 7\r\nContent-Length: 7\r\n\r\n")?.framing, .contentLength(7))
        XCTAssertEqual(parsed("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: CHUNKED\r\n\r\n")?.framing, .chunked)
        XCTAssertEqual(parsed("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4611686018427387904\r\n\r\n")?.framing,
                       .contentLength(1 << 62))
    }

    func testKeepAliveFollowsVersionAndConnectionTokens() {
        XCTAssertEqual(parsed("GET / HTTP/1.1\r\nHost: a\r\n\r\n")?.keepAlive, true)
        XCTAssertEqual(parsed("GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, CLOSE\r\n\r\n")?.keepAlive, false)
        XCTAssertEqual(parsed("GET / HTTP/1.1\r\nHost: a\r\nConnection: foo\r\nConnection: close\r\n\r\n")?.keepAlive, false)
        XCTAssertEqual(parsed("GET / HTTP/1.0\r\n\r\n")?.keepAlive, false)
        XCTAssertEqual(parsed("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")?.keepAlive, true)
        XCTAssertEqual(parsed("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n")?.keepAlive, false)
    }

    func testUpgradeNeedsBothTheHeaderAndTheConnectionToken() {
        XCTAssertEqual(parsed("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n\r\n")?.isUpgrade, true)
        XCTAssertEqual(parsed("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n")?.isUpgrade, false)
        XCTAssertEqual(parsed("GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n\r\n")?.isUpgrade, false)
        XCTAssertEqual(parsed("GET / HTTP/1.0\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n")?.isUpgrade, false)
    }

    func testExpectContinueIsDetectedCaseInsensitively() {
        XCTAssertEqual(parsed("PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n")?.expectsContinue, true)
        XCTAssertEqual(parsed("PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\n")?.expectsContinue, false)
    }

    func testHeadersKeepOrderDuplicatesAndRawBytes() throws {
        let h = try XCTUnwrap(parsed("GET / HTTP/1.1\r\nHost: a\r\nX-Dup: 1\r\nx-dup: 2\r\nX-Empty:\r\nX-Obs: caf\u{E9}\r\n\r\n"))
        XCTAssertEqual(h.headers.values(named: "X-DUP"), ["1", "2"])
        XCTAssertEqual(h.headers.name(at: 2), "x-dup")
        XCTAssertEqual(h.headers.value(at: 3), "")
        XCTAssertEqual(h.headers.firstIndex(named: "x-obs"), 4)
        XCTAssertEqual(h.headers.withValueBytes(at: 4) { Array($0) }, Array("caf\u{E9}".utf8))
        XCTAssertEqual(h.headers.elements.map(\.name), ["Host", "X-Dup", "x-dup", "X-Empty", "X-Obs"])
        XCTAssertNil(h.headers["missing"])
    }

    func testUnknownMethodsAreKeptAsWritten() {
        XCTAssertEqual(parsed("PURGE / HTTP/1.1\r\nHost: a\r\n\r\n")?.method, .other("PURGE"))
        XCTAssertEqual(parsed("get / HTTP/1.1\r\nHost: a\r\n\r\n")?.method, .other("get"))
        XCTAssertTrue(HTTPMethod.put.isIdempotent)
        XCTAssertFalse(HTTPMethod.post.isIdempotent)
    }

    /// The request line's method fast path (`GET` and `POST` by one word compare) agrees with `fromToken` for every
    /// known method and for near misses of the two: one letter off, lower case, longer or shorter tokens.
    func testEveryMethodAndNearMissesOfTheFastPathParseAsTheirToken() {
        let tokens = ["GET", "POST", "HEAD", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
                      "GEt", "gET", "GETS", "GE", "POS", "POSTS", "PST", "POTS", "xOST", "PUST", "GEX", "HGET", "G"]
        for token in tokens {
            let target = token == "CONNECT" ? "a:1" : token == "OPTIONS" ? "*" : "/"
            let expected = Array(token.utf8).withUnsafeBytes { HTTPMethod.fromToken($0) }
            XCTAssertEqual(parsed("\(token) \(target) HTTP/1.1\r\nHost: a:1\r\n\r\n")?.method, expected, token)
        }
        XCTAssertEqual(parsed("GET / HTTP/1.1\r\nHost: a\r\n\r\n")?.method, .get)
        XCTAssertEqual(parsed("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n")?.method, .post)
        XCTAssertEqual(parsed("GETS / HTTP/1.1\r\nHost: a\r\n\r\n")?.method, .other("GETS"))
        XCTAssertEqual(parsed("POTS / HTTP/1.1\r\nHost: a\r\n\r\n")?.method, .other("POTS"))
    }

    func testErrorsAreStickyUntilReset() {
        var p = RequestHeadParser()
        let bad = [UInt8]("GET / HTTP/2.0\r\n\r\n"), good = [UInt8]("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        XCTAssertThrowsError(try bad.withUnsafeBytes { (b) throws(HTTP1Error) in try p.parse(b) })
        XCTAssertThrowsError(try good.withUnsafeBytes { (b) throws(HTTP1Error) in try p.parse(b) })
        p.reset()
        XCTAssertEqual(try good.withUnsafeBytes { (b) throws(HTTP1Error) in try p.parse(b) }, .complete(consumed: good.count))
    }

    func testResetClearsThePreviousHead() throws {
        var p = RequestHeadParser()
        let a = [UInt8]("POST http://a/x HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\n")
        let b = [UInt8]("GET /y HTTP/1.1\r\nHost: b\r\n\r\n")
        _ = try a.withUnsafeBytes { (r) throws(HTTP1Error) in try p.parse(r) }
        p.reset()
        _ = try b.withUnsafeBytes { (r) throws(HTTP1Error) in try p.parse(r) }
        XCTAssertEqual(summarize(p.head), summarize(try XCTUnwrap(parsed("GET /y HTTP/1.1\r\nHost: b\r\n\r\n"))))
    }

    func testAuthorityParsingCanonicalises() {
        XCTAssertEqual(Authority(parsing: "Example.COM"), Authority(host: "example.com", port: nil))
        XCTAssertEqual(Authority(parsing: "[::FFFF:1.2.3.4]:80"), Authority(host: "[::ffff:1.2.3.4]", port: 80))
        XCTAssertNil(Authority(parsing: ""))
        XCTAssertNil(Authority(parsing: "a:"))
        XCTAssertNil(Authority(parsing: "a:65536"))
        XCTAssertNil(Authority(parsing: "[::1"))
        XCTAssertNil(Authority(parsing: "u@h"))
    }

    /// Should mark a head naming a generation (berth's own field, known by kind as Via is) and no other.
    func testMarksAHeadNamingAGeneration() {
        XCTAssertEqual(parsed("GET / HTTP/1.1\r\nHost: a\r\nberth-GENERATION: c0ffee\r\n\r\n")?.namesGeneration, true)
        XCTAssertEqual(parsed("GET / HTTP/1.1\r\nHost: a\r\nProxy-Connection: keep-alive\r\n\r\n")?.namesGeneration, false)
        XCTAssertEqual(parsed("GET / HTTP/1.1\r\nHost: a\r\nX-Berth-Generation: c0ffee\r\n\r\n")?.namesGeneration, false)
    }
}
