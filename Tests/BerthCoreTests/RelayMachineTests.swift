// The exchange relay (machine and driver) run over in-memory channels: bytes, framing, flow control and every end.
import XCTest
import HTTP1
@testable import BerthCore

final class RelayMachineTests: XCTestCase {
    private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    /// Should move a Content-Length request body and response body through untouched, flush both, and finish.
    func testLengthBodiesGoThroughAndTheExchangeFinishes() {
        var r = MemoryRelay(request: "POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n")
        XCTAssertEqual(r.callerSends(bytes("he")), .wait)
        XCTAssertEqual(r.callerSends(bytes("llo")), .wait)
        XCTAssertEqual(r.upstream.wire, bytes("hello"))
        XCTAssertTrue(r.upstream.reading, "the upstream is read once the request went out")
        XCTAssertEqual(r.upstreamSends(bytes("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nab")), .wait)
        XCTAssertEqual(r.upstreamSends(bytes("c")), .finished(extraBytes: false))
        XCTAssertEqual(r.callerBody, bytes("abc"))
        XCTAssertTrue(r.callerText.hasPrefix("HTTP/1.1 200 OK\r\n"))
        XCTAssertTrue(r.exchange.callerKeepAlive)
    }

    /// Should keep chunked framing on both bodies as it came, across any split of the bytes.
    func testChunkedBodiesKeepTheirFramingAcrossSplits() {
        let reqBody = bytes("3\r\nabc\r\n0\r\n\r\n")
        let respBody = bytes("2;x=y\r\nhi\r\n1\r\n!\r\n0\r\nT: v\r\n\r\n")
        for split in 1..<reqBody.count {
            var r = MemoryRelay(request: "POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
            r.caller.maxRun = split
            r.upstream.maxRun = split
            r.callerSends(Array(reqBody[..<split]))
            r.callerSends(Array(reqBody[split...]))
            XCTAssertEqual(r.upstream.wire, reqBody, "split \(split)")
            XCTAssertTrue(r.exchange.requestDone)
            let response = bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n") + respBody
            let cut = min(split * 3, response.count - 1)
            XCTAssertEqual(r.upstreamSends(Array(response[..<cut])), .wait, "split \(split)")
            XCTAssertEqual(r.upstreamSends(Array(response[cut...])), .finished(extraBytes: false), "split \(split)")
            XCTAssertEqual(r.callerBody, respBody, "split \(split)")
        }
    }

    /// Should not keep an upstream connection whose HTTP/1.0 answer came to a chunked request (its server may have
    /// read the chunks as requests, whose answers come next), and keep one whose HTTP/1.0 answer came to a
    /// Content-Length request or whose chunked request met an HTTP/1.1 answer (review14, reliability item 112).
    func testAnHTTP10AnswerToAChunkedRequestEndsTheUpstreamsKeepAlive() {
        let cases: [(request: String, body: String, version: String, kept: Bool)] = [
            ("POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", "3\r\nabc\r\n0\r\n\r\n", "HTTP/1.0", false),
            ("POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", "3\r\nabc\r\n0\r\n\r\n", "HTTP/1.1", true),
            ("POST /l HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n", "abc", "HTTP/1.0", true),
        ]
        for c in cases {
            var r = MemoryRelay(request: c.request)
            r.callerSends(bytes(c.body))
            XCTAssertTrue(r.exchange.requestDone, c.request)
            let answer = "\(c.version) 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok"
            XCTAssertEqual(r.upstreamSends(bytes(answer)), .finished(extraBytes: false), c.request)
            XCTAssertEqual(r.exchange.responseKeepAlive, c.kept, "\(c.version) to \(c.request)")
            XCTAssertTrue(r.exchange.callerKeepAlive, "the caller's connection is kept either way")
        }
    }

    /// Should report a broken chunked request body, so the session aborts the upstream and answers 400.
    func testABrokenChunkedRequestBodyEndsTheRelay() {
        var r = MemoryRelay(request: "POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
        guard case .invalidRequestBody = r.callerSends(bytes("zz\r\n")) else { return XCTFail("\(r.outcomes)") }
    }

    /// Should refuse a response whose chunked body is already broken before its head reaches the caller, so a
    /// clean 502 can still be answered.
    func testABrokenChunkedResponseIsRefusedBeforeItsHeadGoesOut() {
        var r = MemoryRelay(request: "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        r.run()
        let outcome = r.upstreamSends(bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n"))
        guard case .invalidResponse(.chunkedBody) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertTrue(r.caller.wire.isEmpty && r.caller.output.isEmpty, "nothing of the response went out")
        XCTAssertFalse(r.exchange.responseHeadSent)
    }

    /// Should forward 100 Continue to an HTTP/1.1 caller and flush it at once, then relay the final response.
    func testInterimHeadsAreForwardedAndFlushedAtOnce() {
        var r = MemoryRelay(request: "POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n")
        r.run()
        XCTAssertEqual(r.upstreamSends(bytes("HTTP/1.1 100 Continue\r\n\r\n")), .wait)
        XCTAssertTrue(r.callerText.hasPrefix("HTTP/1.1 100 Continue\r\n"), r.callerText)
        r.callerSends(bytes("ok"))
        XCTAssertEqual(r.upstream.wire, bytes("ok"))
        XCTAssertEqual(r.upstreamSends(bytes("HTTP/1.1 204 No Content\r\n\r\n")), .finished(extraBytes: false))
        XCTAssertTrue(r.callerText.contains("HTTP/1.1 204 No Content\r\n"), r.callerText)
    }

    /// Should drop interim heads for an HTTP/1.0 caller, which cannot take them.
    func testInterimHeadsAreDroppedForAnHTTP10Caller() {
        var r = MemoryRelay(request: "GET / HTTP/1.0\r\nHost: a\r\n\r\n")
        r.run()
        XCTAssertEqual(r.upstreamSends(bytes("HTTP/1.1 103 Early Hints\r\nLink: </s>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx")),
                       .finished(extraBytes: false))
        XCTAssertFalse(r.callerText.contains("103"), r.callerText)
        XCTAssertEqual(r.callerBody, bytes("x"))
    }

    /// Should strip chunked framing for an HTTP/1.0 caller and end the body by closing the caller.
    func testChunkedIsDechunkedForAnHTTP10Caller() {
        var r = MemoryRelay(request: "GET / HTTP/1.0\r\nHost: a\r\n\r\n")
        r.upstream.maxRun = 7
        r.run()
        XCTAssertEqual(r.upstreamSends(bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")),
                       .finished(extraBytes: false))
        XCTAssertEqual(r.callerBody, bytes("hello world"))
        XCTAssertFalse(r.callerText.lowercased().contains("transfer-encoding"), r.callerText)
        XCTAssertFalse(r.exchange.callerKeepAlive)
    }

    /// Should complete an until-close body when the upstream closes, keeping neither connection, for an HTTP/1.0
    /// caller: its body goes as it came and ends with the caller's connection.
    func testAnUntilCloseBodyEndsWithTheUpstreamForAnHTTP10Caller() {
        var r = MemoryRelay(request: "GET / HTTP/1.0\r\nHost: a\r\n\r\n")
        r.run()
        XCTAssertEqual(r.upstreamSends(bytes("HTTP/1.1 200 OK\r\n\r\nsome")), .wait)
        XCTAssertEqual(r.upstreamSends(bytes(" more")), .wait)
        XCTAssertEqual(r.upstreamEnds(), .finished(extraBytes: false))
        XCTAssertEqual(r.callerBody, bytes("some more"))
        XCTAssertFalse(r.callerText.lowercased().contains("transfer-encoding"), r.callerText)
        XCTAssertFalse(r.exchange.responseKeepAlive)
        XCTAssertFalse(r.exchange.callerKeepAlive)
        XCTAssertFalse(r.exchange.callerFramingShowsCut, "a cut of this body could only be shown by a reset")
    }

    /// Should relay an until-close body to an HTTP/1.1 caller as chunks, one per run moved, and write the last chunk
    /// at the upstream's clean close; the caller's connection keeps its boundary, the upstream's does not.
    func testAnUntilCloseBodyIsChunkedForAnHTTP11CallerAndEndsWithTheLastChunk() {
        var r = MemoryRelay(request: "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        r.run()
        XCTAssertEqual(r.upstreamSends(bytes("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nsome")), .wait)
        XCTAssertTrue(r.callerText.contains("\r\nTransfer-Encoding: chunked\r\n"), r.callerText)
        XCTAssertFalse(r.callerText.lowercased().contains("connection: close"), r.callerText)
        XCTAssertTrue(r.exchange.callerFramingShowsCut)
        XCTAssertEqual(r.upstreamSends([UInt8](repeating: 120, count: 300)), .wait)
        XCTAssertEqual(r.callerBody, bytes("4\r\nsome\r\n12c\r\n") + [UInt8](repeating: 120, count: 300) + bytes("\r\n"),
                       "nothing before the upstream's close says the body ended")
        XCTAssertEqual(r.upstreamEnds(clean: true), .finished(extraBytes: false))
        XCTAssertTrue(String(decoding: r.callerBody, as: UTF8.self).hasSuffix("\r\n0\r\n\r\n"))
        XCTAssertTrue(r.exchange.callerKeepAlive)
        XCTAssertFalse(r.exchange.responseKeepAlive)
    }

    /// Should relay bytes still buffered when the upstream's close is read (a yielded turn left them) before the
    /// last chunk, never count them as extra.
    func testBytesBufferedAtTheCloseAreTheBodysLast() {
        var r = MemoryRelay(request: "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        r.run()
        r.upstreamSends(bytes("HTTP/1.1 200 OK\r\n\r\nab"))
        r.upstream.receive(bytes("cd"))
        XCTAssertEqual(r.upstreamEnds(clean: true), .finished(extraBytes: false))
        XCTAssertEqual(r.callerBody, bytes("2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n"))
    }

    /// Should fail an until-close body whose upstream ended uncleanly (a reset, a failed write, a TLS close without
    /// close_notify) rather than complete it: no last chunk goes out, and the session cuts the caller.
    func testAnUncleanEndCutsAnUntilCloseBody() {
        for version in ["1.1", "1.0"] {
            var r = MemoryRelay(request: "GET / HTTP/\(version)\r\nHost: a\r\n\r\n")
            r.run()
            r.upstreamSends(bytes("HTTP/1.1 200 OK\r\n\r\nsome"))
            XCTAssertEqual(r.upstreamEnds(clean: false), .failed(.upstreamReset), version)
            XCTAssertTrue(r.exchange.responseHeadSent, "the session cuts the caller rather than answer")
            XCTAssertFalse(String(decoding: r.callerBody, as: UTF8.self).hasSuffix("0\r\n\r\n"), version)
            XCTAssertEqual(r.exchange.callerFramingShowsCut, version == "1.1", version)
        }
    }

    /// Should say which bodies show a cut by their own framing: chunked ones as they came, not de-chunked ones,
    /// nor Content-Length ones.
    func testOnlyAChunkedBodyShowsACut() {
        var chunked = MemoryRelay(request: "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        chunked.run()
        chunked.upstreamSends(bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab"))
        XCTAssertTrue(chunked.exchange.callerFramingShowsCut)
        var dechunked = MemoryRelay(request: "GET / HTTP/1.0\r\nHost: a\r\n\r\n")
        dechunked.run()
        dechunked.upstreamSends(bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab"))
        XCTAssertFalse(dechunked.exchange.callerFramingShowsCut)
        var length = MemoryRelay(request: "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        length.run()
        length.upstreamSends(bytes("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab"))
        XCTAssertFalse(length.exchange.callerFramingShowsCut)
        XCTAssertEqual(length.upstreamEnds(), .failed(.upstreamReset))
    }

    /// Should not re-frame a close-delimited body whose head names a transfer coding of its own (it goes as it came).
    func testAnUntilCloseBodyWithACodingIsNotChunked() {
        var r = MemoryRelay(request: "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        r.run()
        r.upstreamSends(bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzz"))
        XCTAssertEqual(r.callerBody, bytes("zz"))
        XCTAssertFalse(r.exchange.callerKeepAlive)
        XCTAssertEqual(r.upstreamEnds(), .finished(extraBytes: false))
        XCTAssertEqual(r.callerBody, bytes("zz"))
    }

    /// Should send a request again when a reused connection ends before any response byte, and not otherwise.
    func testAnUpstreamEndRetriesOnlyBeforeTheFirstResponseByte() {
        var fresh = MemoryRelay(request: "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        fresh.run()
        XCTAssertEqual(fresh.upstreamEnds(), .retry(.idempotent))
        var late = MemoryRelay(request: "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        late.run()
        late.upstreamSends(bytes("HTTP/1.1 200 OK\r\nContent-"))
        XCTAssertEqual(late.upstreamEnds(), .failed(.upstreamReset))
        var post = MemoryRelay(request: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\n")
        post.callerSends(bytes("z"))
        XCTAssertEqual(post.upstreamEnds(), .failed(.upstreamReset), "a body went out and there is no copy")
        var notReused = MemoryRelay(request: "GET / HTTP/1.1\r\nHost: a\r\n\r\n", reused: false)
        notReused.run()
        XCTAssertEqual(notReused.upstreamEnds(), .failed(.upstreamReset))
    }

    /// Should leave a failed flush to the upstream to the read side: the relay waits, and the end read after it
    /// decides (here: a retry of a bodiless GET on a reused connection).
    func testAFailedUpstreamFlushWaitsForTheUpstreamsEnd() {
        var r = MemoryRelay(request: "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        r.upstream.failFlush = true
        XCTAssertEqual(r.run(), .wait)
        XCTAssertEqual(r.upstreamEnds(clean: false), .retry(.idempotent))
    }

    /// Should relay an answer the upstream sent before the write of the request body failed (a 413 to an upload,
    /// then a reset): the whole answer goes out, the caller is read only up to high water meanwhile, and its
    /// connection is not kept (its upload was not all read).
    func testAnAnswerReadAfterAFailedBodyWriteGoesToTheCaller() {
        var r = MemoryRelay(request: "POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000\r\n\r\n", reused: false)
        r.callerSends(bytes("abc"))
        r.upstream.failFlush = true
        XCTAssertEqual(r.callerSends([UInt8](repeating: 7, count: 100_000)), .wait)
        XCTAssertFalse(r.caller.reading, "the upload stops at high water in the dead connection's output")
        XCTAssertEqual(r.upstreamSends(bytes("HTTP/1.1 413 Too Large\r\nContent-Length: 2\r\n\r\nno")), .finished(extraBytes: false))
        XCTAssertTrue(r.callerText.hasPrefix("HTTP/1.1 413 Too Large\r\n"), r.callerText)
        XCTAssertEqual(r.callerBody, bytes("no"))
        XCTAssertFalse(r.exchange.callerKeepAlive, "the caller's upload was not all read")
    }

    /// Should stop reading the caller while the upstream's output is over high water, and read it again after.
    func testTheCallerIsNotReadWhileTheUpstreamIsBackedUp() {
        var r = MemoryRelay(request: "POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 200000\r\n\r\n")
        r.upstream.flushLimit = 0
        r.callerSends([UInt8](repeating: 7, count: 100_000))
        XCTAssertFalse(r.caller.reading, "100,000 unsent bytes are over the 64 KiB high water")
        r.upstream.flushLimit = nil
        // The channel's write event sends the rest itself, then tells the session, which runs the relay.
        XCTAssertTrue(r.upstream.flush())
        XCTAssertEqual(r.run(), .wait, "an upstream drain runs the relay again")
        XCTAssertEqual(r.upstream.wire.count, 100_000)
        XCTAssertTrue(r.caller.reading)
    }

    /// Should start the upstream's socket timeout again with each run of request body the caller sends, so a slow
    /// but steady upload is never cut; a caller that goes silent leaves it to run out.
    func testRequestBodyBytesRestartTheSocketTimeout() {
        var r = MemoryRelay(request: "POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n")
        r.run()
        XCTAssertTrue(r.upstream.reading)
        r.upstream.setTimeout(r.exchange.socketTimeout, now: r.host.now)
        let armedAt = r.host.now
        r.host.now += 900_000_000
        r.callerSends(bytes("a"))
        XCTAssertEqual(r.upstream.deadline, r.host.now + r.exchange.socketTimeout, "a body byte is progress")
        r.host.now += 900_000_000
        r.callerSends(bytes("b"))
        XCTAssertEqual(r.upstream.deadline, armedAt + 1_800_000_000 + r.exchange.socketTimeout)
        r.host.now += 900_000_000
        r.run()
        XCTAssertEqual(r.upstream.deadline, armedAt + 1_800_000_000 + r.exchange.socketTimeout, "no byte, no new deadline")
    }

    /// Should stop reading the upstream while the caller's output is over high water, arming the caller's idle
    /// timeout meanwhile, and go back to the upstream's socket timeout once the caller drained.
    func testTheUpstreamIsNotReadWhileTheCallerIsBackedUp() {
        var r = MemoryRelay(request: "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        r.run()
        r.caller.flushLimit = 0
        r.upstreamSends(bytes("HTTP/1.1 200 OK\r\nContent-Length: 300000\r\n\r\n") + [UInt8](repeating: 1, count: 100_000))
        XCTAssertFalse(r.upstream.reading)
        XCTAssertNil(r.upstream.deadline, "no socket timeout runs while berth itself stopped reading")
        XCTAssertEqual(r.caller.deadline, r.host.now + r.host.callerIdleTimeout)
        r.caller.flushLimit = nil
        XCTAssertTrue(r.caller.flush())
        XCTAssertEqual(r.run(), .wait, "a caller drain runs the relay again")
        XCTAssertTrue(r.upstream.reading)
        XCTAssertNil(r.caller.deadline)
        XCTAssertEqual(r.upstream.deadline, r.host.now + r.exchange.socketTimeout)
    }

    /// Should hold a caller that pipelines more than berth buffers, and never read a caller that ended its sending
    /// side again (its socket would only say so again, turn after turn).
    func testPipelinedInputIsHeldAndAnEndedCallerIsNotReadAgain() {
        var r = MemoryRelay(request: "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        r.run()
        r.callerSends([UInt8](repeating: 65, count: 20_000))
        XCTAssertFalse(r.caller.reading, "20,000 pipelined bytes are over the 16 KiB hold")
        XCTAssertTrue(r.upstream.wire.isEmpty, "a later request's bytes are not this request's body")
        var ended = MemoryRelay(request: "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        ended.exchange.callerSendingEnded = true
        ended.caller.stopReading()
        XCTAssertEqual(ended.run(), .wait)
        XCTAssertFalse(ended.caller.reading)
    }

    /// Should finish with extraBytes when the upstream sent more than its message, so the gate closes that connection.
    func testBytesAfterTheResponseAreReported() {
        var r = MemoryRelay(request: "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        r.run()
        XCTAssertEqual(r.upstreamSends(bytes("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxJUNK")), .finished(extraBytes: true))
        XCTAssertEqual(r.callerBody, bytes("x"))
    }

    /// Should yield after its budget on a body of many one-byte runs, and finish on later turns without losing a byte.
    func testALongBurstYieldsAndResumes() {
        var r = MemoryRelay(request: "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        r.run()
        var body: [UInt8] = []
        for i in 0..<200 { body += bytes("1\r\n\(i % 10)\r\n") }
        body += bytes("0\r\n\r\n")
        r.upstream.maxRun = 1
        XCTAssertEqual(r.upstreamSends(bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n") + body), .finished(extraBytes: false))
        XCTAssertEqual(r.outcomes.filter { $0 == .yielded }.count, r.outcomes.count - 2, "\(r.outcomes.count) turns")
        XCTAssertGreaterThan(r.outcomes.count, 10, "one byte per step: the budget must have been spent on many turns")
        XCTAssertEqual(r.callerBody, body)
    }

    /// Should report a 101 to an upgrading request as the start of a tunnel, and a 101 to any other as invalid.
    func testA101StartsATunnelOnlyWhenAskedFor() {
        var up = MemoryRelay(request: "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n")
        up.run()
        XCTAssertEqual(up.upstreamSends(bytes("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n")), .upgrade)
        var plain = MemoryRelay(request: "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        plain.run()
        guard case .invalidResponse = plain.upstreamSends(bytes("HTTP/1.1 101 Switching Protocols\r\n\r\n")) else {
            return XCTFail("\(plain.outcomes)")
        }
    }

    /// Should keep a replay copy of the body under `replay: unread` while it fits, and drop it once it does not.
    func testTheReplayCopyFollowsTheBodyUntilItOutgrowsTheBuffer() {
        var r = MemoryRelay(request: "POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 6000\r\n\r\n")
        guard let buffer = r.host.replay.take() else { return XCTFail("no replay buffer") }
        r.exchange.replay = .holding(buffer)
        r.callerSends([UInt8](repeating: 3, count: 3000))
        XCTAssertEqual(buffer.count, 3000)
        r.callerSends([UInt8](repeating: 3, count: 3000))
        guard case .skipped(.bodyTooLarge) = r.exchange.replay else { return XCTFail("\(r.exchange.replay)") }
        XCTAssertEqual(r.host.replay.inUse, 0, "the dropped copy went back to the store")
        XCTAssertEqual(r.upstream.wire.count, 6000)
    }
}
