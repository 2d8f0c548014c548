// review16: the in-place serializers (`reserve:` entry points, heads passed inout) on a stream of heads through one
// reused parser, each fed at random splits, against a model of the bytes that must go out.
import XCTest
@testable import HTTP1

final class InPlaceForwardStreamTests: XCTestCase {
    /// A small deterministic generator (xorshift64*), so that a failure names its seed and round.
    struct Rand {
        var s: UInt64
        mutating func next() -> UInt64 {
            s ^= s >> 12; s ^= s << 25; s ^= s >> 27
            return s &* 2685821657736338717
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
        mutating func pick<T>(_ a: [T]) -> T { a[below(a.count)] }
    }

    /// `count` bytes of value text: letters, and now and then a tab inside or bytes past 0x7F (obs-text).
    func value(_ r: inout Rand, _ count: Int) -> [UInt8] {
        var v: [UInt8] = (0..<count).map { _ in UInt8(0x61 + r.below(26)) }
        if count > 2 && r.below(4) == 0 { v[1] = 0x09 }
        if count > 0 && r.below(4) == 0 { v[count - 1] = UInt8(0x80 + r.below(128)) }
        return v
    }

    /// The bytes the `reserve:` entry point writes, into memory filled with a marker, with the bound it asked for.
    func written(_ write: ((Int) -> UnsafeMutableRawPointer?) -> Int) -> [UInt8] {
        let capacity = 1 << 20
        let mem = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        defer { mem.deallocate() }
        mem.initializeMemory(as: UInt8.self, repeating: 0xEE, count: capacity)
        var asked = 0
        let n = write { bound in asked = bound; return bound <= capacity ? mem : nil }
        XCTAssertLessThanOrEqual(n, asked, "wrote past the bound it asked for")
        return Array(UnsafeRawBufferPointer(start: mem, count: n))
    }

    /// Feeds `bytes` in random pieces; the result of the piece that completed the head.
    func feed(_ bytes: [UInt8], _ r: inout Rand, _ parse: (UnsafeRawBufferPointer) throws(HTTP1Error) -> HeadParseResult) throws -> HeadParseResult {
        var offset = 0
        while true {
            let len = offset == bytes.count ? 0 : 1 + r.below(min(bytes.count - offset, r.pick([1, 3, 17, 4096])))
            let result = try bytes[offset..<(offset + len)].withUnsafeBytes { (b) throws(HTTP1Error) in try parse(b) }
            offset += len
            if case .complete = result { return result }
            if offset == bytes.count { XCTFail("incomplete: \(String(decoding: bytes, as: UTF8.self))"); return result }
        }
    }

    /// Response heads of every reason length (none, empty, 1-40, long), statuses that have bodies and those that do
    /// not, and field lines of every length, one after another on one parser: each goes out as its own status line,
    /// its own reason and its own end-to-end lines, nothing of a head before it.
    func testResponseHeadsOnOneParserGoOutWithOnlyTheirOwnBytes() throws {
        var r = Rand(s: 0x5EED_0016)
        var parser = ResponseHeadParser()
        var options = ForwardOptions()
        options.via = "1.1 berth"
        for round in 0..<1500 {
            let status = r.pick([100, 103, 200, 200, 201, 204, 304, 404, 502])
            let reasonKind = r.below(6)
            let reason: [UInt8] = reasonKind == 0 ? [] : value(&r, r.pick([0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 40, 200]))
            var head = Array("HTTP/1.1 \(status)".utf8)
            // Kind 0: no SP and no reason ("HTTP/1.1 200"); else SP and the reason, which may be empty.
            if reasonKind != 0 { head += [0x20] + reason }
            head += [0x0D, 0x0A]
            var want = Array("HTTP/1.1 \(status) ".utf8) + reason + [0x0D, 0x0A]
            let bodiless = status < 200 || status == 204
            for _ in 0..<r.pick([0, 1, 2, 5, 40]) {
                switch r.below(4) {
                case 0:
                    let v = value(&r, r.pick([0, 3, 16, 33, 300]))
                    let line = Array("Berth-Error: ".utf8) + v + [0x0D, 0x0A]
                    head += line
                    want += Array("Berth-Upstream-Error: ".utf8) + v + [0x0D, 0x0A]
                default:
                    let line = Array("X-F\(r.below(1000)): ".utf8) + value(&r, r.pick([0, 1, 8, 9, 17, 64])) + [0x0D, 0x0A]
                    head += line
                    want += line
                }
            }
            if status >= 200 {
                let line = Array("Content-Length: 0\r\n".utf8)
                head += line
                if !bodiless { want += line }
            }
            head += [0x0D, 0x0A]
            if status == 101 { want += Array("Connection: upgrade\r\n".utf8) }
            want += Array("Via: 1.1 berth\r\n\r\n".utf8)
            let result = try feed(head, &r) { (b) throws(HTTP1Error) in try parser.parse(b) }
            guard case .complete = result else { return XCTFail("round \(round): \(result)") }
            let got = written { reserve in
                HeadSerializer.writeForwardResponse(&parser, callerVersion: .http11, keepAlive: true, options: options, reserve: reserve)
            }
            XCTAssertEqual(String(decoding: got, as: UTF8.self), String(decoding: want, as: UTF8.self),
                           "round \(round): \(String(decoding: head, as: UTF8.self).debugDescription)")
            if got != want { return }
            parser.reset()
        }
    }

    /// Request heads of every target length, origin and absolute form, with fields of every length, handed from one
    /// reused parser into one reused exchange head (`takeHead`'s in-place swap) and forwarded from it in place.
    func testRequestHeadsTakenInPlaceGoOutWithOnlyTheirOwnBytes() throws {
        var r = Rand(s: 0x5EED_1016)
        var parser = RequestHeadParser()
        var taken = RequestHead()
        var options = ForwardOptions()
        options.via = "1.1 berth"
        for round in 0..<1500 {
            let path = Array("/".utf8) + value(&r, r.pick([0, 1, 6, 7, 8, 15, 16, 17, 30, 31, 32, 33, 40, 300])).map { $0 < 0x21 || $0 > 0x7E ? 0x70 : $0 }
            let absolute = r.below(3) == 0
            let host = r.pick(["a.example", "a.example:8080", "b"])
            let version = r.pick(["HTTP/1.1", "HTTP/1.1", "HTTP/1.0"])
            let method = r.pick(["GET", "POST", "DELETE", "PURGE"])
            var head = Array("\(method) ".utf8) + (absolute ? Array("http://\(host)".utf8) : []) + path
                + Array(" \(version)\r\nHost: \(host)\r\n".utf8)
            var want = Array("\(method) ".utf8) + path + Array(" \(version)\r\nHost: \(host)\r\n".utf8)
            for _ in 0..<r.pick([0, 1, 3, 40]) {
                let line = Array("X-Q\(r.below(1000)): ".utf8) + value(&r, r.pick([0, 1, 8, 9, 17, 64])) + [0x0D, 0x0A]
                head += line
                want += line
            }
            head += [0x0D, 0x0A]
            if version == "HTTP/1.0" { want += Array("Connection: keep-alive\r\n".utf8) }
            want += Array("Via: 1.1 berth\r\n\r\n".utf8)
            let result = try feed(head, &r) { (b) throws(HTTP1Error) in try parser.parse(b) }
            guard case .complete = result else { return XCTFail("round \(round): \(result)") }
            parser.takeHead(into: &taken)
            let got = written { reserve in
                HeadSerializer.writeForwardRequest(&taken, host: host, options: options, reserve: reserve)
            }
            XCTAssertEqual(String(decoding: got, as: UTF8.self), String(decoding: want, as: UTF8.self),
                           "round \(round): \(String(decoding: head, as: UTF8.self).debugDescription)")
            if got != want { return }
        }
    }
}
