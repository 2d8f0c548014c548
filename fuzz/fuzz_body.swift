// libFuzzer target: the body decoder never crashes, never over-consumes, and is split-invariant. Byte 0 picks the framing.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let framing: BodyFraming
    switch data[0] % 4 {
    case 0: framing = .contentLength(UInt64(data[0]))
    default: framing = .chunked
    }
    let bytes = UnsafeRawBufferPointer(start: data + 1, count: size - 1)
    let results = [0, 1, 3].map { feedBody(bytes, framing: framing, step: $0) }
    check(results[0] == results[1] && results[0] == results[2], "split changed the outcome: \(results)")
    return 0
}
