// A held last chunk's trailer section dripped one byte per read: how long the decoder takes over all its reads.

/// Nanoseconds for one `takeHeldLine` per byte of a `sectionBytes` section (a relay asks once per read, with all
/// buffered from the held line on): linear if the decoder resumes where it stopped, quadratic if it rescans.
@inline(never) func heldTrailerDrip(sectionBytes: Int) -> Double {
    let field = Array("X-Pad: ".utf8)
    var section = Array("0\r\n".utf8) + field
    section += [UInt8](repeating: 0x61, count: sectionBytes - section.count - 4)
    section += Array("\r\n\r\n".utf8)
    var decoder = BodyDecoder(framing: .chunked)
    decoder.holdsLastChunk = true
    _ = try! section.withUnsafeBytes { (b) throws(HTTP1Error) in try decoder.consume(b) }
    let t = now()
    var reads = 0
    section.withUnsafeBytes { all in
        for end in 1...all.count {
            reads += 1
            if case .lastChunk = try! decoder.takeHeldLine(UnsafeRawBufferPointer(rebasing: all[..<end])) { break }
        }
    }
    precondition(decoder.isComplete && reads == section.count, "the section never completed")
    return now() - t
}
