// Small pure pieces: duration text, FIFO queue, histogram quantiles, admin query parsing, destination matching, JSON escaping.
import XCTest
import HTTP1
@testable import BerthCore

final class SmallPartsTests: XCTestCase {
    func testRequestDurationsAcceptTheDocumentedUnits() {
        XCTAssertEqual(DurationSyntax.nanoseconds(parsing: "125ms"), 125_000_000)
        XCTAssertEqual(DurationSyntax.nanoseconds(parsing: "2s"), 2_000_000_000)
        XCTAssertEqual(DurationSyntax.nanoseconds(parsing: "1.5s"), 1_500_000_000)
        XCTAssertEqual(DurationSyntax.nanoseconds(parsing: "5m"), 300_000_000_000)
    }

    /// Regression: a huge value in Berth-Socket-Timeout or drain= overflowed and crashed the process.
    func testHugeOrMalformedDurationsAreRejectedWithoutOverflow() {
        for bad in ["", "0s", "10", "-1s", "1.s", ".5s", "abc", "1x", "25h", "9999999999s", " 1s", "999999999h",
                    "219105510.209341m", "2562047h", "2562047.9999h", "99999999999999999999999h", String(repeating: "9", count: 400) + "s"] {
            XCTAssertNil(DurationSyntax.nanoseconds(parsing: bad), bad)
        }
    }

    func testFIFOQueueKeepsOrderAndRemovesFromTheMiddle() {
        var q = FIFOQueue<Int>()
        for i in 0..<100 { q.append(i) }
        for i in 0..<50 { XCTAssertEqual(q.popFirst(), i) }
        XCTAssertTrue(q.remove { $0 == 75 })
        XCTAssertFalse(q.remove { $0 == 75 })
        XCTAssertEqual(q.count, 49)
        XCTAssertEqual(q.popFirst(), 50)
    }

    func testHistogramQuantilesReportBucketBounds() {
        var h = Histogram()
        XCTAssertNil(h.quantile(0.5))
        for _ in 0..<90 { h.observe(40_000) }
        for _ in 0..<10 { h.observe(7_000_000) }
        XCTAssertEqual(h.quantile(0.5), 50_000)
        XCTAssertEqual(h.quantile(0.99), 10_000_000)
        XCTAssertEqual(h.count, 100)
    }

    func testAdminQueryDecodesAndValidates() throws {
        let q = try AdminQuery("upstream=%5B%3A%3A1%5D%3A8080&drain=2s", allowed: ["upstream", "drain"])
        XCTAssertEqual(try q.upstream(required: true)?.description, "[::1]:8080")
        XCTAssertEqual(try q.duration("drain"), 2_000_000_000)
        XCTAssertThrowsError(try AdminQuery("upstrem=a:1", allowed: ["upstream"]))
        XCTAssertThrowsError(try AdminQuery("upstream=a:1&upstream=b:2", allowed: ["upstream"]))
        XCTAssertThrowsError(try AdminQuery("drain=soon", allowed: ["drain"]).duration("drain"))
        XCTAssertNil(try AdminQuery("", allowed: ["drain"]).duration("drain"))
        XCTAssertThrowsError(try AdminQuery("upstream=nohost", allowed: ["upstream"]).upstream(required: true))
        XCTAssertThrowsError(try AdminQuery("upstream=h:0", allowed: ["upstream"]).upstream(required: true))
        XCTAssertThrowsError(try AdminQuery("drain=%zz", allowed: ["drain"]))
    }

    func testPoolKeysAreCanonical() {
        XCTAssertEqual(PoolKey(host: "Api.Internal", port: 80).description, "api.internal:80")
        XCTAssertEqual(PoolKey(host: "::1", port: 8080).description, "[::1]:8080")
        XCTAssertEqual(PoolKey(parsing: "[::1]:8080")?.bareHost, "::1")
    }

    /// Should keep `name.` (absolute, resolved without search domains) and `name` two keys that never share a
    /// connection (hostile1 item 3), while the absolute one meets the name's destination settings and allow rules
    /// (issue 23 item 13); a lone dot or a double one stays unresolvable.
    func testATrailingDotIsItsOwnUpstreamWithTheNamesRules() {
        XCTAssertNotEqual(PoolKey(host: "Example.Internal.", port: 80), PoolKey(host: "example.internal", port: 80))
        XCTAssertEqual(PoolKey(parsing: "example.internal.:8080")?.endpoint, "example.internal.:8080")
        XCTAssertEqual(PoolKey(parsing: "example.internal.:8080")?.matchEndpoint, "example.internal:8080")
        XCTAssertEqual(PoolKey(host: "a.internal.", port: 443).peerName, "a.internal")
        XCTAssertTrue(DestinationMatcher.matches("*.internal", key: PoolKey(host: "a.internal.", port: 80)))
        XCTAssertTrue(DestinationMatcher.matches("example.internal:8080", key: PoolKey(host: "example.internal.", port: 8080)))
        XCTAssertTrue(PoolKey(host: "a.internal.", port: 80).isResolvable)
        XCTAssertFalse(PoolKey(host: ".", port: 80).isResolvable)
        XCTAssertFalse(PoolKey(host: "a..", port: 80).isResolvable)
    }

    func testOnlyIPLiteralsAndDNSNamesAreResolvable() {
        for good in ["127.0.0.1", "::1", "localhost", "api.internal", "my_service", "a-b.c-d.example", String(repeating: "a", count: 63)] {
            XCTAssertTrue(PoolKey(host: good, port: 80).isResolvable, good)
        }
        for bad in ["127..1", ".a", "a..b", "", "x%41", "a b", String(repeating: "a", count: 64), "ex!ample"] {
            XCTAssertFalse(PoolKey(host: bad, port: 80).isResolvable, bad)
        }
    }

    func testDestinationPatternsMatchHostHostPortAndCIDR() {
        let key = PoolKey(host: "10.1.2.3", port: 8080)
        XCTAssertTrue(DestinationMatcher.matches("10.1.2.3", key: key))
        XCTAssertTrue(DestinationMatcher.matches("10.1.2.3:8080", key: key))
        XCTAssertFalse(DestinationMatcher.matches("10.1.2.3:8081", key: key))
        XCTAssertTrue(DestinationMatcher.matches("10.0.0.0/8", key: key))
        XCTAssertFalse(DestinationMatcher.matches("10.2.0.0/16", key: key))
        let named = PoolKey(host: "a.svc.example.com", port: 80)
        XCTAssertTrue(DestinationMatcher.matches("*.example.com", key: named))
        XCTAssertFalse(DestinationMatcher.matches("*.other.com", key: named))
        XCTAssertTrue(DestinationMatcher.allows(.cidr(address: [127, 0, 0, 0], bits: 8), key: PoolKey(host: "127.0.0.2", port: 1)))
        XCTAssertFalse(DestinationMatcher.allows(.cidr(address: [127, 0, 0, 2], bits: 32), key: PoolKey(host: "127.0.0.1", port: 1)))
    }

    func testJSONWriterEscapesControlCharacters() {
        var w = JSONWriter()
        w.beginObject()
        w.field("a", "line\nnext\u{1}\"\\\té")
        w.field("n", 3)
        w.field("neg", -12)
        w.field("big", UInt64.max)
        w.field("half", 0.5)
        w.field("inf", Double.infinity)
        w.beginArray("list")
        w.beginObject()
        w.field(JSONName("x\"y"), 7)
        w.endObject()
        w.beginObject()
        w.endObject()
        w.endArray()
        w.null("none")
        w.endObject()
        XCTAssertEqual(w.text, #"{"a":"line\nnext\u0001\"\\\té","n":3,"neg":-12,"big":18446744073709551615,"half":0.5,"inf":null,"list":[{"x\"y":7},{}],"none":null}"#)
    }

    func testJSONWriterGrowsPastItsFirstCapacity() {
        var w = JSONWriter(capacity: 8)
        w.beginObject()
        w.beginArray("items")
        for i in 0..<1000 { w.beginObject(); w.field("i", i); w.endObject() }
        w.endArray()
        w.endObject()
        let bytes = w.finish()
        XCTAssertEqual(bytes.last, 10)
        let text = String(decoding: bytes.dropLast(), as: UTF8.self)
        XCTAssertTrue(text.hasPrefix(#"{"items":[{"i":0},{"i":1},"#))
        XCTAssertTrue(text.hasSuffix(#"{"i":999}]}"#))
        XCTAssertEqual(text.components(separatedBy: #"{"i":"#).count, 1001)
    }

    func testByteWriterMovesFromMallocToItsOwnMappingAndHandsOverWithoutLoss() {
        var w = ByteWriter(capacity: 100)
        var expected: [UInt8] = []
        // Past the 1 MiB mapping threshold, through several growths, with pieces of every size class.
        for i in 0..<80_000 {
            let piece: StaticString = i % 3 == 0 ? "ab" : (i % 3 == 1 ? "0123456789abcdefghijklmnopqrstuvwxyz" : "x")
            w.put(piece)
            expected.append(contentsOf: UnsafeBufferPointer(start: piece.utf8Start, count: piece.utf8CodeUnitCount))
            w.decimal(UInt64(i))
            expected.append(contentsOf: Array(String(i).utf8))
        }
        w.decimal(-7)
        expected.append(contentsOf: Array("-7".utf8))
        XCTAssertGreaterThan(w.count, 1 << 20)
        let owned = w.finishOwned()
        XCTAssertEqual(owned.count, expected.count)
        XCTAssertEqual(owned.array, expected)
    }

    func testCounterIndicesFollowDeclarationOrder() {
        XCTAssertEqual(CloseReason.allCases.map(\.index), Array(0..<CloseReason.allCases.count))
        XCTAssertEqual(ErrorCause.allCases.map(\.index), Array(0..<ErrorCause.allCases.count))
        XCTAssertEqual(CloseReason.Counts.count, CloseReason.allCases.count)
        XCTAssertEqual(ErrorCause.Counts.count, ErrorCause.allCases.count)
        XCTAssertEqual(Histogram().counts.count, Histogram.bounds.count + 1)
    }

    /// Should give every status berth answers with itself its RFC 9110 phrase, not the generic "Error".
    func testEveryErrorCauseStatusHasItsPhrase() {
        // `caller-aborted` is never an answer: its 499 (nginx's) is only written in the access line.
        for cause in ErrorCause.allCases where cause != .callerAborted {
            XCTAssertNotEqual("\(StatusReason.phrase(cause.status))", "Error", "\(cause) answers \(cause.status)")
        }
    }
}

final class WorkerShareTests: XCTestCase {
    func testSharesAddUpToTheLimitExactly() {
        for limit in [2, 3, 10, 100, 201] {
            for count in 1...4 where count <= limit {
                let shares = (0..<count).map { workerShare(limit, index: $0, count: count) }
                XCTAssertEqual(shares.reduce(0, +), limit)
                XCTAssertTrue(shares.allSatisfy { $0 >= 1 }, "every worker gets at least one when limit >= count")
                XCTAssertLessThanOrEqual(shares.max()! - shares.min()!, 1)
            }
        }
    }
}
