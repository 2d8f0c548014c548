// Review of the walk's routing changes: the key's stored resolvability and the route cache's copied bytes, against the rules they replaced.
import XCTest
import EventLoop
import HTTP1
@testable import BerthCore

final class WalkReviewTests: XCTestCase {
    /// `isResolvable` as it was computed on each read before it became a stored value (165efb2 PoolKey.swift), with
    /// the IPv4 shorthands refused since (targets: TargetRefusalTests).
    private func resolvableBefore(_ key: PoolKey) -> Bool {
        if SocketAddress(numericHost: key.bareHost, port: key.port) != nil { return true }
        if PoolKey.shorthandIPv4(key.host) != nil { return false }
        let bytes = Array(key.isAbsolute ? key.host.utf8.dropLast() : key.host.utf8[...])
        guard !bytes.isEmpty, bytes.count <= 253 else { return false }
        var label = 0
        for b in bytes {
            if b == UInt8(ascii: ".") {
                guard label > 0 else { return false }
                label = 0
                continue
            }
            let ok = (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == UInt8(ascii: "-") || b == UInt8(ascii: "_")
            guard ok else { return false }
            label += 1
            guard label <= 63 else { return false }
        }
        return label > 0
    }

    /// Should judge every host as the computed property did: the hand-picked edges, then 30,000 seeded random hosts
    /// (dots, brackets, colons, percent, digits, case, non-ASCII) on ports in and out of range.
    func testStoredResolvabilityAgreesWithTheOldRule() {
        let edges = ["1.2.3", "1.2.3.4", "1.2.3.4.", "0x7f.1", "127.1", "[::1]", "::1", "[::1", "::1]", "[", "]", "[]",
                     "localhost.", "localhost..", ".", "..", ".localhost", "a.", "a..b", "fn_1.", "fn", "FN.", "-", "_",
                     "fe80::1%lo", "[fe80::1%25lo]", "::ffff:1.2.3.4", "[::ffff:1.2.3.4]", "1:2:3:4:5:6:7:8",
                     String(repeating: "a", count: 63), String(repeating: "a", count: 64),
                     String(repeating: "a.", count: 126) + "a", String(repeating: "ab.", count: 85), "é.example", "a b",
                     "", "A", "xn--bcher-kva.example", "1.2.3.256", "01.02.03.04", "a:b", "[a:b]"]
        let ports = [0, 1, 80, 443, 65535, 65536, 99_999, -1]
        for h in edges {
            for p in ports {
                let k = PoolKey(host: h, port: p)
                XCTAssertEqual(k.isResolvable, resolvableBefore(k), "\(h):\(p)")
            }
        }
        let alphabet = Array("ab-_.:[]%019AZé ".unicodeScalars)
        var rng = SplitMix(seed: 8)
        var disagreements = 0
        for _ in 0..<30_000 {
            let n = Int(rng.next() % 12)
            var s = ""
            for _ in 0..<n { s.unicodeScalars.append(alphabet[Int(rng.next() % UInt64(alphabet.count))]) }
            let k = PoolKey(host: s, port: ports[Int(rng.next() % UInt64(ports.count))])
            if k.isResolvable != resolvableBefore(k) {
                disagreements += 1
                if disagreements < 5 { XCTFail("\(k.host):\(k.port) now \(k.isResolvable)") }
            }
        }
        XCTAssertEqual(disagreements, 0)
    }

    /// A whole request head, parsed.
    private func head(_ text: String) -> RequestHead {
        var p = RequestHeadParser()
        var h = RequestHead()
        let bytes = Array(text.utf8)
        let done = bytes.withUnsafeBytes { try? p.parse($0) }
        guard case .complete? = done else { preconditionFailure("not one whole head: \(text)") }
        p.takeHead(into: &h)
        return h
    }

    /// Should remember exactly the bytes `matches` compares (what the closure copy kept before), so that each head
    /// hits the route it made, and a head that names its upstream another way misses it.
    func testRememberedBytesAreTheOnesMatchesReads() throws {
        let base = EventBase()
        let m = PoolManager(base: base, settings: ManagerSettings(BerthConfiguration(defaultsFor: TimeoutProfile.all[0])))
        defer { m.posted.free(); base.free() }
        let pool = try XCTUnwrap(m.poolForRequest(PoolKey(host: "fn", port: 80), now: 0))
        let heads = ["GET /x HTTP/1.1\r\nHost: Api.Internal\r\n\r\n",
                     "GET /x HTTP/1.1\r\nHost:   api.internal:8080  \r\n\r\n",
                     "GET /x HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n",
                     "GET /x HTTP/1.1\r\nHost: fn.\r\n\r\n",
                     "OPTIONS * HTTP/1.1\r\nHost: fn\r\n\r\n",
                     "GET http://API.internal:8080/x?q HTTP/1.1\r\nHost: other\r\n\r\n",
                     "GET http://[::1]:81/ HTTP/1.1\r\nHost: x\r\n\r\n",
                     "GET HTTP://fn.?q HTTP/1.1\r\nHost: x\r\n\r\n",
                     "GET https://fn:443 HTTP/1.1\r\nHost: x\r\n\r\n"]
        var others = heads.map { head($0) }
        for (i, text) in heads.enumerated() {
            var h = head(text)
            var cache = RouteCache()
            cache.remember(&h, pool: pool, hostValue: "v", generation: 3)
            let expected = RouteCache.withRouteBytes(&h) { $0.map { Array($0) } }
            XCTAssertEqual(cache.bytes, expected, text)
            XCTAssertTrue(cache.matches(&h), text)
            XCTAssertEqual(cache.isAbsolute, h.targetForm == .absolute, text)
            for j in others.indices where j != i {
                XCTAssertFalse(cache.matches(&others[j]), "\(text) matched \(heads[j])")
            }
        }
        // A CONNECT names no route the cache keeps: nothing is remembered, and it matches nothing, itself included.
        var connect = head("CONNECT db:5432 HTTP/1.1\r\nHost: db:5432\r\n\r\n")
        var cache = RouteCache()
        var first = head(heads[0])
        cache.remember(&first, pool: pool, hostValue: "v", generation: 0)
        cache.remember(&connect, pool: pool, hostValue: "v", generation: 0)
        XCTAssertEqual(cache.bytes, [])
        XCTAssertFalse(cache.matches(&connect))
        XCTAssertFalse(cache.matches(&first))
    }
}

/// A small seeded generator (SplitMix64), so the property test's hosts are the same on every run.
private struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E4B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
