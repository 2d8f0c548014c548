// libFuzzer target: the request-head parser never crashes and its outcome does not depend on how input is split.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    var results: [String] = []
    for step in [0, 1, 7] {
        var p = RequestHeadParser()
        results.append(feedHead(bytes, step: step, { (b) throws(HTTP1Error) in try p.parse(b) }, {
            let h = p.head
            var out: [UInt8] = []
            HeadSerializer.writeForwardRequest(h, host: "upstream", options: ForwardOptions(), into: &out)
            return "\(h.method) \(h.target) \(h.path) \(String(describing: h.targetAuthority)) \(h.framing) "
                + "\(h.keepAlive) \(h.isUpgrade) \(h.headers.elements.map { "\($0.name)=\($0.value)" }) \(out.count)"
        }))
    }
    check(results[0] == results[1] && results[0] == results[2], "split changed the outcome: \(results)")
    return 0
}
