// The exchange's pure rules: body states on byte fixtures, and when an upstream's early end replays the request.
import Glibc
import XCTest
import HTTP1
import EventLoop
@testable import BerthCore

final class ExchangeRulesTests: XCTestCase {
    /// Runs `bytes` through `body` split at every offset; returns how many bytes it claimed and where it ended.
    private func claim(_ body: Body, _ bytes: [UInt8], split: Int) throws -> (Int, Body) {
        var b = body
        var claimed = 0
        for part in [Array(bytes[..<split]), Array(bytes[split...])] where !part.isEmpty {
            var offset = 0
            while offset < part.count {
                let n = try part.withUnsafeBytes { raw in
                    let rest = UnsafeRawBufferPointer(rebasing: raw[offset...])
                    return try b.advance(available: rest.count) { rest }
                }
                if n == 0 { break }
                offset += n
                claimed += n
            }
        }
        return (claimed, b)
    }

    /// Should claim exactly the Content-Length bytes however they arrive, and leave the next message alone.
    func testALengthBodyClaimsItsBytesAtEverySplit() throws {
        let bytes = Array("hello world GET / HTTP/1.1".utf8)
        for split in 0...bytes.count {
            let (n, end) = try claim(Body(.contentLength(11), limits: .default), bytes, split: split)
            XCTAssertEqual(n, 11, "split \(split)")
            XCTAssertTrue(end.isDone)
        }
        XCTAssertTrue(Body(.contentLength(0), limits: .default).isDone)
        XCTAssertTrue(Body(.none, limits: .default).isDone)
    }

    /// Should claim a chunked body with its framing and trailers, at every split, and stop at its end.
    func testAChunkedBodyClaimsItsFramingAtEverySplit() throws {
        let body = "5\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\n"
        let bytes = Array((body + "NEXT").utf8)
        for split in 0...bytes.count {
            let (n, end) = try claim(Body(.chunked, limits: .default), bytes, split: split)
            XCTAssertEqual(n, body.utf8.count, "split \(split)")
            XCTAssertTrue(end.isDone)
        }
    }

    /// Should hand over only the payload of a chunked body when dechunking, framing left behind.
    func testDechunkingYieldsThePayloadOnly() throws {
        var b = Body(.chunked, limits: .default)
        let bytes = Array("3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n".utf8)
        var payload: [UInt8] = []
        let used = try bytes.withUnsafeBytes { raw in
            try b.advanceDechunking(raw) { r in payload += raw[r] }
        }
        XCTAssertEqual(used, bytes.count)
        XCTAssertEqual(String(decoding: payload, as: UTF8.self), "abcde")
        XCTAssertTrue(b.isDone)
    }

    /// Should refuse broken chunked framing.
    func testBrokenChunkedFramingThrows() {
        var b = Body(.chunked, limits: .default)
        let bytes = Array("zz\r\n".utf8)
        XCTAssertThrowsError(try bytes.withUnsafeBytes { raw in try b.advance(available: raw.count) { raw } })
    }

    // MARK: when a request goes out again

    private func makeExchange(_ method: String, body: UInt64 = 0, key: Bool = false) -> Exchange {
        var exchange = Exchange()
        var text = "\(method) /run HTTP/1.1\r\nHost: fn:8080\r\n"
        if key { text += "Idempotency-Key: a1\r\n" }
        if body > 0 { text += "Content-Length: \(body)\r\n" }
        text += "\r\n"
        var parser = RequestHeadParser(limits: .default)
        _ = Array(text.utf8).withUnsafeBytes { try? parser.parse($0) }
        parser.takeHead(into: &exchange.request)
        exchange.reused = true
        return exchange
    }

    /// A replay buffer holding `n` bytes, copied from a channel's input as the session copies them.
    private func copy(_ n: Int) -> ReplayBuffer {
        let b = ReplayBuffer()
        let base = EventBase()
        var fds: [CInt] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0, &fds), 0)
        let ch = Channel(base: base, fd: fds[0])
        _ = Array(repeating: UInt8(ascii: "x"), count: n).withUnsafeBytes { send(fds[1], $0.baseAddress, n, 0) }
        while ch.pendingInput < n, case .data = ch.read() {}
        XCTAssertTrue(ch.copyInput(n, to: b.bytes))
        XCTAssertEqual(ch.pendingInput, n, "copying leaves the input as it was")
        ch.close()
        Glibc.close(fds[1])
        base.free()
        return b
    }

    /// Should replay a bodiless idempotent or keyed request under either policy, and nothing else by default.
    func testTodaysRuleReplaysOnlyBodilessIdempotentOrKeyedRequests() {
        XCTAssertEqual(makeExchange("GET").upstreamEnded(policy: .idempotent, clean: true), .retry(.idempotent))
        XCTAssertEqual(makeExchange("POST", key: true).upstreamEnded(policy: .idempotent, clean: true), .retry(.idempotencyKey))
        XCTAssertEqual(makeExchange("POST").upstreamEnded(policy: .idempotent, clean: true), .failed(.upstreamReset))
        var withBody = makeExchange("PUT", body: 10)
        withBody.requestBodyBytes = 10
        XCTAssertEqual(withBody.upstreamEnded(policy: .idempotent, clean: true), .failed(.upstreamReset), "body bytes were given away")
    }

    /// Should replay a POST with its body under `unread` when the copy holds every byte sent.
    func testUnreadReplaysAnyMethodWhoseWholeBodyIsHeld() {
        var exchange = makeExchange("POST", body: 5)
        exchange.requestBodyBytes = 5
        exchange.replay = .holding(copy(5))
        XCTAssertEqual(exchange.upstreamEnded(policy: .unread, clean: true), .retry(.unread))
        XCTAssertEqual(exchange.upstreamEnded(policy: .idempotent, clean: true), .failed(.upstreamReset), "the policy is per destination")
        XCTAssertEqual(makeExchange("POST").upstreamEnded(policy: .unread, clean: true), .retry(.unread), "a bodiless POST")
    }

    /// Should never replay after a response byte, a second time, on a fresh connection, or without the whole body.
    func testUnreadNeverReplaysWhatItMustNot() {
        var exchange = makeExchange("POST", body: 5)
        exchange.requestBodyBytes = 5
        exchange.replay = .holding(copy(5))
        var afterByte = exchange
        afterByte.responseBytes = 1
        XCTAssertEqual(afterByte.upstreamEnded(policy: .unread, clean: true), .failed(.upstreamReset))
        var twice = exchange
        twice.retry = .idempotent
        XCTAssertEqual(twice.upstreamEnded(policy: .unread, clean: true), .failed(.upstreamReset))
        var fresh = exchange
        fresh.reused = false
        XCTAssertEqual(fresh.upstreamEnded(policy: .unread, clean: true), .failed(.upstreamReset))
        var outgrown = exchange
        outgrown.replay = .skipped(.bodyTooLarge)
        XCTAssertEqual(outgrown.upstreamEnded(policy: .unread, clean: true), .failed(.upstreamReset))
        var partial = exchange
        partial.replay = .holding(copy(3))
        XCTAssertEqual(partial.upstreamEnded(policy: .unread, clean: true), .failed(.upstreamReset), "the copy lacks bytes that went out")
    }

    /// Should end an until-close body at the upstream's close rather than fail it.
    func testAnUntilCloseBodyEndsAtTheClose() {
        var exchange = makeExchange("GET")
        exchange.response = .streaming(.untilClose, reframed: false)
        exchange.responseBytes = 100
        XCTAssertEqual(exchange.upstreamEnded(policy: .idempotent, clean: true), .endUntilClose)
    }

    /// Should bound the buffers handed out and reuse those given back.
    func testTheReplayStoreIsBounded() {
        let store = ReplayStore(limit: 64, capacity: 2)
        let a = store.take(), b = store.take()
        XCTAssertNotNil(a)
        XCTAssertNotNil(b)
        XCTAssertNil(store.take(), "the cap is reached")
        store.giveBack(a!)
        XCTAssertTrue(store.take() === a, "a buffer given back is reused")
        XCTAssertEqual(store.inUse, 2)
    }

    /// Should start the socket timeout again after a look never past a held deadline, and never as the 1 ns a
    /// passed deadline gives `upstreamTimeout` (a timer that fires at once): a held trailer was cut a socket
    /// timeout late while an upload drained.
    func testTheTimeoutAfterALookStopsAtAHeldDeadline() {
        var x = Exchange()
        x.socketTimeout = 2_000_000_000
        XCTAssertEqual(x.timeoutAfterLook(now: 10_000_000_000), 2_000_000_000)
        x.headDeadline = 10_500_000_000
        XCTAssertEqual(x.timeoutAfterLook(now: 10_000_000_000), 500_000_000)
        x.trailerDeadline = 10_300_000_000
        XCTAssertEqual(x.timeoutAfterLook(now: 10_000_000_000), 300_000_000)
        XCTAssertEqual(x.timeoutAfterLook(now: 10_300_000_000), Exchange.lateSlack)
        x.headDeadline = 0
        x.trailerDeadline = 20_000_000_000
        XCTAssertEqual(x.timeoutAfterLook(now: 10_000_000_000), 2_000_000_000)
    }
}
