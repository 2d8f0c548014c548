// libFuzzer target: the response-head parser never crashes, and its outcome depends neither on how input is split
// nor on what the same parser read before (the reason's text is reused with a length of its own); the head written
// in place (the relay's way) is the head written from a copy.

/// A head with a long reason, read by a reused parser before the input.
let dirtyHead = Array(("HTTP/1.1 103 " + String(repeating: "Long Early Hints Reason ", count: 20)
    + "\r\nLink: </a>; rel=preload\r\n\r\n").utf8)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    var results: [String] = []
    for (step, dirty) in [(0, false), (1, false), (5, false), (0, true), (1, true)] {
        var p = ResponseHeadParser()
        if dirty {
            _ = dirtyHead.withUnsafeBytes { (b) -> String in feedHead(b, step: 0, { (s) throws(HTTP1Error) in try p.parse(s) }, { "" }) }
            p.reset()
        }
        results.append(feedHead(bytes, step: step, { (b) throws(HTTP1Error) in try p.parse(b) }, {
            let h = p.head
            var out: [UInt8] = []
            HeadSerializer.writeForwardResponse(h, callerVersion: .http10, keepAlive: true, options: ForwardOptions(), into: &out)
            // The relay's way: the parser's head read in place, written into memory reserved for the bound it asks.
            let inPlace = writtenInPlace { reserve in
                HeadSerializer.writeForwardResponse(&p, callerVersion: .http10, keepAlive: true, options: ForwardOptions(), reserve: reserve)
            }
            check(inPlace == out, "in place \(inPlace) != copied \(out)")
            for m in [HTTPMethod.get, .head, .connect] {
                check(ResponseHeadParser.framing(of: &p, requestMethod: m) == h.framing(requestMethod: m), "framing in place for \(m)")
            }
            return "\(h.status) \(h.reason) \(h.framing(requestMethod: .get)) \(h.keepAlive) "
                + "\(h.headers.elements.map { "\($0.name)=\($0.value)" }) \(out)"
        }))
    }
    check(results.allSatisfy { $0 == results[0] }, "split or reuse changed the outcome: \(results)")
    return 0
}
