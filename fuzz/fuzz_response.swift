// libFuzzer target: the response-head parser never crashes and its outcome does not depend on how input is split.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    var results: [String] = []
    for step in [0, 1, 5] {
        var p = ResponseHeadParser()
        results.append(feedHead(bytes, step: step, { (b) throws(HTTP1Error) in try p.parse(b) }, {
            let h = p.head
            var out: [UInt8] = []
            HeadSerializer.writeForwardResponse(h, callerVersion: .http10, keepAlive: true, options: ForwardOptions(), into: &out)
            return "\(h.status) \(h.reason) \(h.framing(requestMethod: .get)) \(h.keepAlive) "
                + "\(h.headers.elements.map { "\($0.name)=\($0.value)" }) \(out.count)"
        }))
    }
    check(results[0] == results[1] && results[0] == results[2], "split changed the outcome: \(results)")
    return 0
}
