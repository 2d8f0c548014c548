// The head's fast paths (word scans, the one-pass request line and authority) agree with the byte rules they replace.
import XCTest
@testable import HTTP1

final class HeadFastPathTests: XCTestCase {
    /// Bytes the fast paths treat specially, and neighbours of the classes' edges.
    static let interesting: [UInt8] = [0x00, 0x01, 0x09, 0x0A, 0x0D, 0x1F, 0x20, 0x21, 0x22, 0x23, 0x25, 0x2D, 0x2F, 0x30,
                                       0x39, 0x3A, 0x3F, 0x40, 0x41, 0x48, 0x5A, 0x5B, 0x5D, 0x61, 0x68, 0x7A, 0x7E, 0x7F,
                                       0x80, 0xC1, 0xFF]

    // MARK: firstControlOrDEL

    private func naiveFirstControlOrDEL(_ b: [UInt8], _ from: Int, _ end: Int) -> Int {
        var j = from
        while j < end && !(b[j] < 0x20 || b[j] == 0x7F) { j += 1 }
        return j
    }

    func testFirstControlOrDELAgreesWithTheByteRuleForEveryByteValueOffsetAndLength() {
        for filler: UInt8 in [0x20, 0x80, 0xFF] {
            for len in 0...17 {
                for pos in 0..<max(len, 1) where pos < len {
                    for v in 0...255 {
                        var b = [UInt8](repeating: filler, count: len)
                        b[pos] = UInt8(v)
                        b.withUnsafeBytes { p in
                            let base = p.baseAddress!
                            for from in 0...len {
                                XCTAssertEqual(firstControlOrDEL(base, from: from, end: len), naiveFirstControlOrDEL(b, from, len),
                                               "byte \(v) at \(pos) of \(len), from \(from), filler \(filler)")
                            }
                        }
                    }
                }
            }
        }
    }

    func testFirstControlOrDELOnRandomRunsWithSeveralSpecialBytes() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let len = Int.random(in: 0...40, using: &rng)
            let b = (0..<len).map { _ -> UInt8 in
                Int.random(in: 0..<6, using: &rng) == 0 ? Self.interesting.randomElement(using: &rng)!
                                                        : UInt8.random(in: 0x20...0xFF, using: &rng)
            }
            let from = Int.random(in: 0...len, using: &rng)
            let end = Int.random(in: from...len, using: &rng)
            b.withUnsafeBytes { p in
                // A base that is not 8-aligned as well as one that may be.
                XCTAssertEqual(firstControlOrDEL(p.baseAddress ?? UnsafeRawPointer(bitPattern: 8)!, from: from, end: end),
                               naiveFirstControlOrDEL(b, from, end), "\(b) from \(from) end \(end)")
            }
        }
    }

    // MARK: hasCapital

    func testHasCapitalAgreesWithTheByteRule() {
        for len in 0...17 {
            for pos in 0..<max(len, 1) where pos < len {
                for v in 0...255 {
                    var b = [UInt8](repeating: 0x61, count: len)
                    b[pos] = UInt8(v)
                    b.withUnsafeBytes { p in
                        XCTAssertEqual(hasCapital(p), b.contains { $0 >= 0x41 && $0 <= 0x5A }, "byte \(v) at \(pos) of \(len)")
                    }
                }
            }
        }
    }

    // MARK: schemePrefix and regNameAuthority against the general path

    /// The general path of `classifyTarget` for the scheme: the authority's start, or nil when it refuses.
    private func generalScheme(_ t: [UInt8]) -> (Int, Bool)? {
        guard let colon = t.firstIndex(of: COLON) else { return nil }
        let s = t[0..<colon].map(lower)
        let https: Bool
        if s == Array("http".utf8) { https = false } else if s == Array("https".utf8) { https = true } else { return nil }
        guard colon + 2 < t.count, t[colon + 1] == 0x2F, t[colon + 2] == 0x2F else { return nil }
        return (colon + 3, https)
    }

    func testSchemePrefixAgreesWithTheGeneralPathForEveryByteAtEveryPosition() {
        for base in ["http://a.b/x", "https://a.b/", "HtTp://a", "hTTPS://x.y"] {
            let b = [UInt8](base.utf8)
            for pos in 0..<min(b.count, 9) {
                for v in 0...255 {
                    var t = b
                    t[pos] = UInt8(v)
                    t.withUnsafeBytes { p in
                        guard let s = RequestSink.schemePrefix(p) else { return }
                        let g = generalScheme(t)
                        XCTAssertEqual(s, g?.0, "\(t)")
                        XCTAssertEqual(s == 8, g?.1, "\(t)")
                    }
                }
            }
        }
    }

    func testRegNameAuthorityAgreesWithTheGeneralParse() {
        var rng = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = Array("aZ09.-_~%!$&'()*+,;=:@[]/?#".utf8) + [0x20, 0x80]
        var taken = 0
        for _ in 0..<100_000 {
            let len = Int.random(in: 0...14, using: &rng)
            var auth = (0..<len).map { _ in alphabet.randomElement(using: &rng)! }
            if Bool.random(using: &rng) {
                // Ports around the limits of five digits and 65535, leading zeros included.
                let zeros = String(repeating: "0", count: Int.random(in: 0...3, using: &rng))
                let port = zeros + String(Int.random(in: 0...999_999, using: &rng))
                auth = Array("host".utf8) + [COLON] + Array(port.utf8)
            }
            let tail: [UInt8] = [[], Array("/p".utf8), Array("?q".utf8), Array("x".utf8)].randomElement(using: &rng)!
            let t = Array("http://".utf8) + auth + tail
            // As on a request line: the target is followed by the SP before the version.
            let line = t + Array(" HTTP/1.1".utf8)
            line.withUnsafeBytes { l in
                let tp = UnsafeRawBufferPointer(rebasing: l[0..<t.count])
                var end = -1
                guard let fast = RequestSink.regNameAuthority(tp, from: 7, end: &end) else {
                    XCTAssertEqual(end, -1)
                    return
                }
                taken += 1
                var authEnd = 7
                while authEnd < t.count && t[authEnd] != 0x2F && t[authEnd] != 0x3F { authEnd += 1 }
                XCTAssertEqual(end, authEnd, "\(t)")
                let general = AuthoritySyntax.parse(UnsafeRawBufferPointer(rebasing: l[7..<authEnd]), requirePort: false)
                XCTAssertEqual(general?.host, fast.host, "\(t)")
                XCTAssertEqual(general?.port, fast.port, "\(t)")
            }
        }
        XCTAssertGreaterThan(taken, 1_000)
    }

    // MARK: request and status lines against the rules as they were before the fast paths

    /// `RequestSink.startLine` and `classifyTarget` before the one-pass forms, as a summary or the error.
    private func referenceRequestLine(_ line: [UInt8]) -> String {
        let n = line.count
        var i = 0
        while i < n && isToken(line[i]) { i += 1 }
        guard i > 0, i < n, line[i] == SP else { return "failed(\(HTTP1Error.invalidMethod))" }
        let methodEnd = i
        var lastSP = n - 1
        while lastSP > methodEnd && line[lastSP] != SP { lastSP -= 1 }
        guard lastSP > methodEnd else { return "failed(\(HTTP1Error.invalidVersion))" }
        let targetStart = methodEnd + 1
        guard lastSP > targetStart else { return "failed(\(HTTP1Error.invalidTarget))" }
        for j in targetStart..<lastSP where charClass[Int(line[j])] & CharClass.target == 0 {
            return "failed(\(HTTP1Error.invalidTarget))"
        }
        let version: HTTPVersion
        do {
            version = try line.withUnsafeBytes { (p) throws(HTTP1Error) in
                try HTTPVersion.parse(UnsafeRawBufferPointer(rebasing: p[(lastSP + 1)..<n]))
            }
        } catch { return "failed(\(error))" }
        let method = line.withUnsafeBytes { HTTPMethod.fromToken(UnsafeRawBufferPointer(rebasing: $0[0..<methodEnd])) }
        let t = Array(line[targetStart..<lastSP])
        func authority(_ a: [UInt8], requirePort: Bool) -> String? {
            a.withUnsafeBytes { p in
                guard let s = AuthoritySyntax.parse(p, requirePort: requirePort) else { return nil }
                let host = String(decoding: a[s.host].map(lower), as: UTF8.self)
                return "\(host):\(s.port.map(String.init) ?? "-")"
            }
        }
        let v = "v=\(version.major).\(version.minor)"
        if method == .connect {
            guard let a = authority(t, requirePort: true) else { return "failed(\(HTTP1Error.invalidTarget))" }
            return "\(method.rawValue) authority auth=\(a) scheme=nil path= \(v)"
        }
        if t == [0x2A] {
            guard method == .options else { return "failed(\(HTTP1Error.invalidTarget))" }
            return "\(method.rawValue) asterisk auth=nil scheme=nil path=* \(v)"
        }
        if t[0] == 0x2F { return "\(method.rawValue) origin auth=nil scheme=nil path=\(String(decoding: t, as: UTF8.self)) \(v)" }
        guard let g = generalScheme(t) else { return "failed(\(HTTP1Error.invalidTarget))" }
        let (authStart, https) = g
        var authEnd = authStart
        while authEnd < t.count && t[authEnd] != 0x2F && t[authEnd] != 0x3F { authEnd += 1 }
        guard let a = authority(Array(t[authStart..<authEnd]), requirePort: false) else { return "failed(\(HTTP1Error.invalidTarget))" }
        let rest = String(decoding: t[authEnd...], as: UTF8.self)
        // RFC 9112 3.2.4: an OPTIONS of an empty path and no query goes as `*`.
        let path = authEnd < t.count && t[authEnd] == 0x2F ? rest : rest.isEmpty && method == .options ? "*" : "/" + rest
        return "\(method.rawValue) absolute auth=\(a) scheme=\(https ? "https" : "http") path=\(path) \(v)"
    }

    private func parsedRequestLine(_ line: [UInt8]) -> String {
        var p = RequestHeadParser()
        let bytes = line + Array("\r\nHost: a\r\n\r\n".utf8)
        do {
            _ = try bytes.withUnsafeBytes { (b) throws(HTTP1Error) in try p.parse(b) }
        } catch { return "failed(\(error))" }
        let h = p.head
        let auth = h.targetAuthority.map { "\($0.host):\($0.port.map(String.init) ?? "-")" } ?? "nil"
        return "\(h.method.rawValue) \(h.targetForm) auth=\(auth) scheme=\(h.scheme ?? "nil") path=\(h.path) "
            + "v=\(h.version.major).\(h.version.minor)"
    }

    /// Each line with every interesting byte put at every position, each byte left out, and each byte doubled.
    private func variants(of s: String) -> [[UInt8]] {
        let b = [UInt8](s.utf8)
        var out = [b]
        for pos in 0..<b.count {
            for v in Self.interesting where v != CR && v != LF {
                var c = b
                c[pos] = v
                out.append(c)
            }
            var d = b
            d.remove(at: pos)
            out.append(d)
            var e = b
            e.insert(b[pos], at: pos)
            out.append(e)
        }
        return out
    }

    func testRequestLinesAgreeWithTheRulesBeforeTheFastPaths() {
        let lines = ["GET http://127.0.0.1:8080/b2 HTTP/1.1", "GET HTTPS://Example.COM/x?y HTTP/1.0",
                     "GET http://h:65535?q HTTP/1.1", "CONNECT a.b:443 HTTP/1.1", "GET /p HTTP/1.1", "OPTIONS * HTTP/1.1",
                     "GET http://[::1]:80/ HTTP/1.1", "GET http://u@h/ HTTP/1.1", "GET https://ab HTTP/1.1"]
        for line in lines {
            for v in variants(of: line) {
                XCTAssertEqual(parsedRequestLine(v), referenceRequestLine(v), "\(String(decoding: v, as: UTF8.self).debugDescription) \(v)")
            }
        }
    }

    /// `ResponseSink.startLine` before the fixed-place version: the version up to the first SP.
    private func referenceStatusLine(_ line: [UInt8]) -> String {
        let n = line.count
        guard let sp = line.firstIndex(of: SP) else { return "failed(\(HTTP1Error.invalidStatusLine))" }
        let version: HTTPVersion
        do {
            version = try line.withUnsafeBytes { (p) throws(HTTP1Error) in
                try HTTPVersion.parse(UnsafeRawBufferPointer(rebasing: p[0..<sp]))
            }
        } catch { return "failed(\(error))" }
        let d = sp + 1
        guard d + 3 <= n, isDigit(line[d]), isDigit(line[d + 1]), isDigit(line[d + 2]), line[d] != 0x30 else {
            return "failed(\(HTTP1Error.invalidStatusLine))"
        }
        var reasonStart = d + 3
        if reasonStart < n {
            guard line[reasonStart] == SP else { return "failed(\(HTTP1Error.invalidStatusLine))" }
            reasonStart += 1
        }
        for j in reasonStart..<n where !isFieldValue(line[j]) { return "failed(\(HTTP1Error.invalidStatusLine))" }
        return "v=\(version.major).\(version.minor) \(String(decoding: line[d..<(d + 3)], as: UTF8.self)) "
            + "'\(String(decoding: line[reasonStart...], as: UTF8.self))'"
    }

    func testStatusLinesAgreeWithTheRulesBeforeTheFastPath() {
        for line in ["HTTP/1.1 200 OK", "HTTP/1.0 404 Not Found", "HTTP/1.1 204", "HTTP/1.1 200 "] {
            for v in variants(of: line) {
                var p = ResponseHeadParser()
                let bytes = v + Array("\r\n\r\n".utf8)
                let got: String
                do {
                    _ = try bytes.withUnsafeBytes { (b) throws(HTTP1Error) in try p.parse(b) }
                    got = "v=\(p.head.version.major).\(p.head.version.minor) \(p.head.status) '\(p.head.reason)'"
                } catch { got = "failed(\(error))" }
                XCTAssertEqual(got, referenceStatusLine(v), "\(String(decoding: v, as: UTF8.self).debugDescription)")
            }
        }
    }

    // MARK: whole heads: the fast path (whole slice) against the states (one byte at a time)

    func testHeadsWithOneByteChangedParseTheSameWholeAndSplit() {
        let request = "GET http://127.0.0.1:8080/b2 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: curl/7.88.1\r\n"
            + "Accept: */*\r\nX-T:\tv\t\r\nX-E:\r\n\r\nNEXT"
        let response = "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sun, 06 Dec 2026 16:59:04 GMT\r\n"
            + "Content-Type: application/octet-stream\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok"
        // A slice that ends in 32 or more token bytes (a body like this one) takes the lexer's other loop order.
        let tokenTail = String(repeating: "a", count: 40)
        for (input, isRequest) in [(request, true), (response, false), (request + tokenTail, true), (response + tokenTail, false)] {
            let b = [UInt8](input.utf8)
            for pos in 0..<b.count {
                for v in Self.interesting {
                    var c = b
                    c[pos] = v
                    let parse: ([Int]?) -> Outcome = isRequest ? { parseRequest(c, splits: $0) } : { parseResponse(c, splits: $0) }
                    let whole = parse(nil)
                    XCTAssertEqual(parse(Array(repeating: 1, count: c.count)), whole, "byte \(v) at \(pos)")
                    XCTAssertEqual(parse([pos, c.count]), whole, "byte \(v) at \(pos), split there")
                }
            }
        }
    }
}
