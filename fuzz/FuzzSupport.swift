// Shared helpers of the fuzz targets: feeding strategies and outcome summaries used to check split invariance.

func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    // The message goes in the trap's own line: a print before it stayed in stdout's buffer, lost with the process.
    if !condition { fatalError("invariant violated: \(message())") }
}

/// The bytes a serializer's `reserve:` entry point writes, into memory it reserves for the bound it asks for (filled
/// with a marker); never more than that bound.
func writtenInPlace(_ write: ((Int) -> UnsafeMutableRawPointer?) -> Int) -> [UInt8] {
    var asked = 0
    var mem: UnsafeMutableRawPointer?
    let n = write { bound in
        asked = bound
        mem = UnsafeMutableRawPointer.allocate(byteCount: bound, alignment: 16)
        mem!.initializeMemory(as: UInt8.self, repeating: 0xEE, count: bound)
        return mem
    }
    defer { mem?.deallocate() }
    check(n <= asked, "wrote \(n) bytes for a bound of \(asked)")
    guard let mem else { return [] }
    return Array(UnsafeRawBufferPointer(start: mem, count: n))
}

/// Feeds `bytes` in pieces of `step` bytes (0 = all at once) and summarises the outcome.
func feedHead(_ bytes: UnsafeRawBufferPointer, step: Int,
              _ parse: (UnsafeRawBufferPointer) throws(HTTP1Error) -> HeadParseResult, _ summary: () -> String) -> String {
    var offset = 0
    let n = bytes.count
    while offset < n {
        let len = step == 0 ? n - offset : min(step, n - offset)
        do {
            let r = try parse(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + len)]))
            if case .complete(let c) = r {
                check(c >= 0 && c <= len, "consumed \(c) of a \(len)-byte slice")
                return "complete@\(offset + c) " + summary()
            }
        } catch {
            return "error \(error)"
        }
        offset += len
    }
    return "needMore"
}

func feedBody(_ bytes: UnsafeRawBufferPointer, framing: BodyFraming, step: Int) -> String {
    var d = BodyDecoder(framing: framing)
    var offset = 0
    let n = bytes.count
    var total = 0
    while offset < n {
        let len = step == 0 ? n - offset : min(step, n - offset)
        do {
            let c = try d.consume(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + len)]))
            check(c >= 0 && c <= len, "body consumed \(c) of \(len)")
            total += c
            if c < len { check(d.isComplete, "stopped early without completing"); break }
        } catch {
            return "error \(error)"
        }
        offset += len
    }
    return "consumed \(total) complete \(d.isComplete)"
}
