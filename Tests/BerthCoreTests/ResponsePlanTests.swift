// The rules for forwarding a response head (1xx, 101, keep-alive, HTTP/1.0 callers), checked without sockets.
import XCTest
import HTTP1
@testable import BerthCore

final class ResponsePlanTests: XCTestCase {
    func plan(_ status: Int, _ framing: BodyFraming = .contentLength(2), version: HTTPVersion = .http11,
              upgrade: Bool = false, requestDone: Bool = true, keep: Bool = true, shuttingDown: Bool = false,
              codings: Bool = false, otherCodings: Bool = false, chunked: Bool = false) -> ResponsePlan {
        ResponsePlan.plan(status: status, framing: framing, version: version, isUpgrade: upgrade,
                          requestDone: requestDone, callerKeepAlive: keep, shuttingDown: shuttingDown,
                          hasTransferEncoding: codings, hasOtherCoding: otherCodings, namesChunked: chunked)
    }

    func final(_ framing: BodyFraming, keep: Bool, reframe: Reframe = .asIs) -> ResponsePlan {
        .final(.init(framing: framing, callerKeepAlive: keep, reframe: reframe))
    }

    /// Should keep the caller on a framed response to a fully sent request.
    func testAFramedResponseKeepsTheCaller() {
        XCTAssertEqual(plan(200), final(.contentLength(2), keep: true))
        XCTAssertEqual(plan(204, .none), final(.none, keep: true))
        XCTAssertEqual(plan(200, .chunked), final(.chunked, keep: true))
    }

    /// Should chunk a close-delimited body for an HTTP/1.1 caller, so a cut shows and the caller's connection keeps
    /// a boundary; an HTTP/1.0 caller, or a head with a transfer coding of its own, gets it as it is and is closed.
    func testAnUntilCloseBodyIsChunkedForAnHTTP11Caller() {
        XCTAssertEqual(plan(200, .untilClose), final(.untilClose, keep: true, reframe: .chunk))
        XCTAssertEqual(plan(200, .untilClose, keep: false), final(.untilClose, keep: false, reframe: .chunk))
        XCTAssertEqual(plan(200, .untilClose, version: .http10), final(.untilClose, keep: false))
        XCTAssertEqual(plan(200, .untilClose, codings: true), final(.untilClose, keep: false))
        XCTAssertEqual(plan(204, .none), final(.none, keep: true), "no body: nothing to re-frame")
    }

    /// Should close the caller when the server answered before the request body was all sent.
    func testAnEarlyAnswerEndsTheCallerConnection() {
        XCTAssertEqual(plan(413, requestDone: false), final(.contentLength(2), keep: false))
    }

    /// Should never turn a caller that is already closing back into a kept one, and close all during a drain.
    func testKeepAliveOnlyEverNarrows() {
        XCTAssertEqual(plan(200, keep: false), final(.contentLength(2), keep: false))
        XCTAssertEqual(plan(200, shuttingDown: true), final(.contentLength(2), keep: false))
    }

    /// Should strip chunked framing for an HTTP/1.0 caller and end that body by closing (RFC 9112 6.1).
    func testChunkedToAnHTTP10CallerIsDechunkedAndClosed() {
        XCTAssertEqual(plan(200, .chunked, version: .http10), final(.chunked, keep: false, reframe: .dechunk))
        XCTAssertEqual(plan(200, version: .http10), final(.contentLength(2), keep: true), "a framed body stays as it is")
    }

    /// Should forward 100 Continue and other 1xx to HTTP/1.1 callers only (RFC 9110 15.2).
    func testInterimResponsesGoOnlyToCallersThatCanTakeThem() {
        XCTAssertEqual(plan(100, .none), .interim(forward: true))
        XCTAssertEqual(plan(103, .none), .interim(forward: true))
        XCTAssertEqual(plan(100, .none, version: .http10), .interim(forward: false))
    }

    /// Should tunnel on 101 only when the request asked to upgrade, and refuse it otherwise.
    func testSwitchingProtocolsNeedsAnUpgradeRequest() {
        XCTAssertEqual(plan(101, .none, upgrade: true), .upgrade)
        XCTAssertEqual(plan(101, .none, upgrade: false), .invalid(.unaskedUpgrade))
        XCTAssertEqual(ResponsePlan.Refusal.unaskedUpgrade.detail, "101 to a request that did not ask to upgrade")
    }

    /// Should refuse a coding besides chunked for an HTTP/1.0 caller, which knows no Transfer-Encoding: de-chunked
    /// or read until close, the coded bytes would pass for the content. An HTTP/1.1 caller gets them as they came.
    func testCodingsBesidesChunkedAreRefusedForAnHTTP10Caller() {
        XCTAssertEqual(plan(200, .chunked, version: .http10, otherCodings: true), .invalid(.codingForHTTP10))
        XCTAssertEqual(plan(200, .untilClose, version: .http10, codings: true), .invalid(.codingForHTTP10))
        XCTAssertEqual(plan(200, .chunked, otherCodings: true), final(.chunked, keep: true))
        XCTAssertEqual(plan(200, .untilClose, codings: true), final(.untilClose, keep: false))
    }

    /// Should refuse a close-delimited body whose codings name chunked (so not last: `chunked, gzip`), for any caller:
    /// a client that takes any chunked for the framing would read its bytes as chunks. A list without chunked goes on.
    func testChunkedNotLastIsRefused() {
        XCTAssertEqual(plan(200, .untilClose, codings: true, chunked: true), .invalid(.chunkedNotLast))
        XCTAssertEqual(plan(200, .untilClose, version: .http10, codings: true, chunked: true), .invalid(.chunkedNotLast))
        XCTAssertEqual(plan(200, .untilClose, codings: true), final(.untilClose, keep: false))
        XCTAssertTrue(ResponsePlan.Refusal.chunkedNotLast.detail.contains("not as the last coding"))
    }

    func headers(_ lines: [String]) -> HTTPHeaders {
        var h = HTTPHeaders()
        for l in lines { h.append(name: "Transfer-Encoding", value: l) }
        return h
    }

    /// Should find a coding besides chunked in any Transfer-Encoding line, whatever the case or spaces.
    func testOtherCodingsAreFoundInEveryLine() {
        XCTAssertFalse(ResponsePlan.namesOtherCoding(headers(["chunked"])))
        XCTAssertFalse(ResponsePlan.namesOtherCoding(headers([" Chunked\t"])))
        XCTAssertTrue(ResponsePlan.namesOtherCoding(headers(["gzip, chunked"])))
        XCTAssertTrue(ResponsePlan.namesOtherCoding(headers(["gzip", "chunked"])))
    }

    /// Should find chunked in any Transfer-Encoding line, whatever the case or spaces, and not in a name containing it.
    func testChunkedIsFoundInEveryLine() {
        XCTAssertTrue(ResponsePlan.namesChunked(headers(["chunked, gzip"])))
        XCTAssertTrue(ResponsePlan.namesChunked(headers([" CHUNKED ,gzip"])))
        XCTAssertTrue(ResponsePlan.namesChunked(headers(["chunked", "identity"])))
        XCTAssertFalse(ResponsePlan.namesChunked(headers(["gzip"])))
        XCTAssertFalse(ResponsePlan.namesChunked(headers(["xchunked, gzip"])))
    }
}
