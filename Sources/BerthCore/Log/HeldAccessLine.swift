// An access line rendered at its exchange's end and written once its answer left berth, or as cut if it never did.
import HTTP1

/// The access line of an answer whose end berth has read but whose last bytes still wait in the caller's output
/// (a caller reading slower than the upstream sent). The exchange is cleared for the next request, so the line is
/// rendered then; it is written when the last byte went to the kernel, or when the connection closed without it
/// (`ProxySession.tailCut`). Written then, its `ts` and `total_ms` are made again for that moment, and a cut one
/// says so in `berth_error`: three marks say where those values are in the bytes.
struct HeldAccessLine {
    var bytes: [UInt8] = []
    var format = LogFormat.logfmt
    var timestampAt = 0..<0
    var errorAt = 0..<0
    var totalAt = 0..<0
    /// The request's start, for `total_ms` when the line is written.
    var startedAt: Nanos = 0

    /// Renders the line of `exchange` (ended at `now`) and keeps it until it is written.
    mutating func hold(_ exchange: borrowing Exchange, now: Nanos, format: LogFormat, label: String,
                       using w: inout AccessLineWriter) {
        w.begin(format, label: label)
        for field in AccessField.allCases {
            w.name(field.rawValue)
            let start = w.position
            field.write(exchange, now: now, into: &w)
            if field == .berthError { errorAt = start..<w.position } else if field == .total { totalAt = start..<w.position }
        }
        timestampAt = w.timestampAt
        self.format = format
        startedAt = exchange.startedAt
        bytes.removeAll(keepingCapacity: true)
        w.end { bytes.append(contentsOf: $0) }
    }

    /// The line as written at `now`: its time and total now, and `cut`, if any, as its `berth_error`.
    func written<R>(cut: ErrorCause?, now: Nanos, using w: inout AccessLineWriter, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        bytes.withUnsafeBytes { b in
            func part(_ r: Range<Int>) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: b[r]) }
            w.restart(format)
            w.raw(part(0..<timestampAt.lowerBound))
            w.timestamp()
            w.raw(part(timestampAt.upperBound..<errorAt.lowerBound))
            if let cut { w.text(cut.rawValue) } else { w.raw(part(errorAt)) }
            w.raw(part(errorAt.upperBound..<totalAt.lowerBound))
            w.milliseconds(now - startedAt)
            w.raw(part(totalAt.upperBound..<b.count))
            return w.finish(body)
        }
    }
}
