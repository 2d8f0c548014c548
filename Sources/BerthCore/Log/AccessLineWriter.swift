// One access-log line as bytes, in either log format: framing, value kinds and escaping; AccessField picks the fields.
import Glibc

/// Writes access-log lines into one reused buffer. `AccessField` says which value each field has; this says how each
/// kind of value looks in the format, once, so the JSON and logfmt lines cannot say different things. Every byte
/// written is printable ASCII: a value is escaped (and one taken from the request capped) so that no request can
/// end a line, open a field or forge one.
struct AccessLineWriter: ~Copyable {
    private var out = ByteWriter(capacity: 1024)
    private var json = false
    private var first = true
    private var listEmpty = true
    /// Where the `ts` value's characters are in the line (`begin`), for a held line's marks (`HeldAccessLine`).
    private(set) var timestampAt = 0..<0

    /// How many bytes the line has so far: where the next value starts, for a held line's marks.
    var position: Int { out.count }

    /// Longest value taken from the request that is written whole; a longer one is cut there and ends in `...`.
    static let valueCap = 256

    /// A new line in `format`, starting with the fields every log line has (as `StderrLogHandler` writes them).
    mutating func begin(_ format: LogFormat, label: String) {
        out.removeAll()
        json = format == .json
        first = true
        if json { out.put(UInt8(ascii: "{")) }
        name("ts")
        // Digits, `-`, `:`, `.`, `T` and `Z`: bare in logfmt, as the other log lines write it.
        if json { out.put(UInt8(ascii: "\"")) }
        let start = out.count
        LogTimestamp.write(into: &out)
        timestampAt = start..<out.count
        if json { out.put(UInt8(ascii: "\"")) }
        name("level")
        text("info")
        name("label")
        text(label)
        name("msg")
        text("access")
    }

    /// Ends the line; `body` gets the whole of it, newline included.
    mutating func end<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        if json { out.put(UInt8(ascii: "}")) }
        out.put(10)
        return out.withBytes(body)
    }

    /// Starts a line again from bytes rendered before (`HeldAccessLine`): the format's escaping, nothing written yet.
    mutating func restart(_ format: LogFormat) {
        out.removeAll()
        json = format == .json
        first = false
    }

    /// Bytes of a line rendered before, as they are.
    mutating func raw(_ bytes: UnsafeRawBufferPointer) {
        guard let p = bytes.baseAddress, bytes.count > 0 else { return }
        out.put(p.assumingMemoryBound(to: UInt8.self), bytes.count)
    }

    /// The wall-clock time now, as `begin` writes it.
    mutating func timestamp() { LogTimestamp.write(into: &out) }

    /// A restarted line is whole (its end came with the held bytes): `body` gets it.
    func finish<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R { out.withBytes(body) }

    /// The next field's name.
    mutating func name(_ n: String) {
        if json {
            out.put(first ? "\"" : ",\"")
            out.put(n)
            out.put("\":")
        } else {
            if !first { out.put(UInt8(ascii: " ")) }
            out.put(n)
            out.put(UInt8(ascii: "="))
        }
        first = false
    }

    // MARK: values

    /// No value: `null` in JSON, `-` in logfmt.
    mutating func none() { json ? out.put("null") : out.put(UInt8(ascii: "-")) }

    mutating func number(_ v: UInt64) { out.decimal(v) }

    mutating func bool(_ v: Bool) { out.put(v ? "true" : "false") }

    /// A duration in milliseconds with three decimals (microsecond resolution); negative spans read as 0.
    mutating func milliseconds(_ n: Nanos) {
        let micros = UInt64(max(0, n) / 1_000)
        out.decimal(micros / 1_000)
        out.put(UInt8(ascii: "."))
        let frac = micros % 1_000
        if frac < 100 { out.put(UInt8(ascii: "0")) }
        if frac < 10 { out.put(UInt8(ascii: "0")) }
        out.decimal(frac)
    }

    /// Text: a JSON string; in logfmt bare when it can be (non-empty, printable, no space, `"`, `=` or `\`), else
    /// quoted as JSON. A value longer than `cap` is cut there and ends in `...`.
    mutating func text(_ bytes: UnsafeRawBufferPointer, cap: Int = valueCap) {
        let n = min(bytes.count, cap)
        let cut = bytes.count > cap
        if !json && n > 0 && bytes[..<n].allSatisfy(Self.isBare) {
            out.put(bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), n)
            if cut { out.put("...") }
            return
        }
        out.put(UInt8(ascii: "\""))
        for b in bytes[..<n] { escape(b) }
        if cut { out.put("...") }
        out.put(UInt8(ascii: "\""))
    }

    mutating func text(_ s: String) {
        var s = s
        s.withUTF8 { text(UnsafeRawBufferPointer($0)) }
    }

    /// A list of names (`beginList`, `item` each, `endList`): a JSON array of strings; in logfmt the names joined
    /// by commas, `-` when empty. The names are berth's own (`[a-z-]`), so they need no escaping in either format.
    mutating func beginList() {
        listEmpty = true
        if json { out.put(UInt8(ascii: "[")) }
    }

    mutating func item(_ name: String) {
        if !listEmpty { out.put(UInt8(ascii: ",")) }
        listEmpty = false
        if json { out.put(UInt8(ascii: "\"")) }
        out.put(name)
        if json { out.put(UInt8(ascii: "\"")) }
    }

    mutating func endList() {
        if json { out.put(UInt8(ascii: "]")) } else if listEmpty { none() }
    }

    /// Printable ASCII that logfmt may leave bare.
    private static func isBare(_ b: UInt8) -> Bool {
        b > 0x20 && b < 0x7F && b != UInt8(ascii: "\"") && b != UInt8(ascii: "=") && b != UInt8(ascii: "\\")
    }

    /// One byte inside a JSON string: `"` and `\` escaped, anything outside printable ASCII (controls, DEL, and
    /// bytes of UTF-8 or obs-text alike) as `\u00XX` of the byte, so the line stays ASCII and valid JSON.
    private mutating func escape(_ b: UInt8) {
        switch b {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"):
            out.put(UInt8(ascii: "\\"))
            out.put(b)
        case 0x20..<0x7F:
            out.put(b)
        default:
            let hex: StaticString = "0123456789abcdef"
            out.put("\\u00")
            out.put(hex.utf8Start[Int(b >> 4)])
            out.put(hex.utf8Start[Int(b & 0xF)])
        }
    }
}

/// Wall-clock time for log lines: RFC 3339, UTC, milliseconds (`2026-12-06T08:27:27.123Z`).
public enum LogTimestamp {
    /// Now, as text.
    public static func now() -> String {
        var w = ByteWriter(capacity: 32)
        write(into: &w)
        return w.text
    }

    /// Now, written into `w`.
    static func write(into w: inout ByteWriter) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var t = tm()
        gmtime_r(&seconds, &t)
        pad(&w, Int(t.tm_year) + 1900, 4)
        w.put(UInt8(ascii: "-")); pad(&w, Int(t.tm_mon) + 1, 2)
        w.put(UInt8(ascii: "-")); pad(&w, Int(t.tm_mday), 2)
        w.put(UInt8(ascii: "T")); pad(&w, Int(t.tm_hour), 2)
        w.put(UInt8(ascii: ":")); pad(&w, Int(t.tm_min), 2)
        w.put(UInt8(ascii: ":")); pad(&w, Int(t.tm_sec), 2)
        w.put(UInt8(ascii: ".")); pad(&w, Int(now.tv_nsec / 1_000_000), 3)
        w.put(UInt8(ascii: "Z"))
    }

    private static func pad(_ w: inout ByteWriter, _ v: Int, _ width: Int) {
        var d = 10
        for _ in 1..<width {
            if v < d { w.put(UInt8(ascii: "0")) }
            d *= 10
        }
        w.decimal(v)
    }
}
