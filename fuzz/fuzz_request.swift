// libFuzzer target: the request-head parser never crashes, and its outcome depends neither on how input is split
// nor on what the same parser read before (a head's text and field storage are reused with lengths of their own); the
// head swapped out and written in place (the session's way) is the head written from a copy.

/// Heads a reused parser reads before the input: long targets, a capital host to lowercase, a synthesised path.
let dirtyHeads: [[UInt8]] = [
    Array(("GET http://VERY-LONG-HOST-NAME.EXAMPLE.INTERNAL:8080?" + String(repeating: "q", count: 300)
        + " HTTP/1.1\r\nHost: VERY-LONG-HOST-NAME.EXAMPLE.INTERNAL:8080\r\nX-Long: " + String(repeating: "v", count: 300)
        + "\r\n\r\n").utf8),
    Array(("CONNECT LONG-AUTHORITY-" + String(repeating: "H", count: 200) + ":443 HTTP/1.1\r\nHost: x\r\n\r\n").utf8),
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    var results: [String] = []
    for (step, dirty) in [(0, -1), (1, -1), (7, -1), (0, 0), (1, 1), (3, 2)] {
        var p = RequestHeadParser()
        var taken = RequestHead()
        // A reused parser: the dirty head (or the input itself) read twice, so both swapped buffers hold it.
        if dirty >= 0 {
            for _ in 0..<2 {
                if dirty < dirtyHeads.count {
                    _ = dirtyHeads[dirty].withUnsafeBytes { (b) -> String in feedHead(b, step: 0, { (s) throws(HTTP1Error) in try p.parse(s) }, { "" }) }
                } else {
                    _ = feedHead(bytes, step: 0, { (b) throws(HTTP1Error) in try p.parse(b) }, { "" })
                }
                p.takeHead(into: &taken)
            }
        }
        results.append(feedHead(bytes, step: step, { (b) throws(HTTP1Error) in try p.parse(b) }, {
            let h = p.head
            var out: [UInt8] = []
            HeadSerializer.writeForwardRequest(h, host: "upstream", options: ForwardOptions(), into: &out)
            // The session's way: the head swapped into the exchange's (dirty when the parser was) and written from
            // there in place, into memory reserved for the bound it asks.
            p.takeHead(into: &taken)
            let inPlace = writtenInPlace { reserve in
                HeadSerializer.writeForwardRequest(&taken, host: "upstream", options: ForwardOptions(), reserve: reserve)
            }
            check(inPlace == out, "in place \(inPlace) != copied \(out)")
            var route: [UInt8] = []
            let hasRoute = h.appendSchemeAndAuthority(to: &route)
            return "\(h.method) \(h.target) \(h.path) \(String(describing: h.targetAuthority)) \(h.framing) "
                + "\(h.keepAlive) \(h.isUpgrade) \(h.headers.elements.map { "\($0.name)=\($0.value)" }) \(out) "
                + "\(hasRoute) \(route) \(h.namesRoute(as: route)) \(h.namesSocketTimeout)"
        }))
    }
    check(results.allSatisfy { $0 == results[0] }, "split or reuse changed the outcome: \(results)")
    return 0
}
