// A minimal JSON text builder for admin answers, so the core needs no Foundation.

/// Appends JSON tokens to a string; the caller keeps the structure balanced.
struct JSONWriter {
    private(set) var text = ""
    private var needsComma = [false]

    init() { text.reserveCapacity(4096) }

    private mutating func separator() {
        if needsComma[needsComma.count - 1] { text += "," }
        needsComma[needsComma.count - 1] = true
    }

    private mutating func key(_ k: String?) {
        separator()
        if let k {
            JSONWriter.appendQuoted(k, to: &text)
            text += ":"
        }
    }

    mutating func beginObject(_ k: String? = nil) {
        key(k)
        text += "{"
        needsComma.append(false)
    }

    mutating func endObject() {
        needsComma.removeLast()
        text += "}"
    }

    mutating func beginArray(_ k: String? = nil) {
        key(k)
        text += "["
        needsComma.append(false)
    }

    mutating func endArray() {
        needsComma.removeLast()
        text += "]"
    }

    mutating func field(_ k: String?, _ v: String) {
        key(k)
        JSONWriter.appendQuoted(v, to: &text)
    }

    mutating func field(_ k: String?, _ v: Int) {
        key(k)
        text += String(v)
    }

    mutating func field(_ k: String?, _ v: UInt64) {
        key(k)
        text += String(v)
    }

    mutating func field(_ k: String?, _ v: Bool) {
        key(k)
        text += v ? "true" : "false"
    }

    mutating func field(_ k: String?, _ v: Double) {
        key(k)
        text += v.isFinite ? String(v) : "null"
    }

    mutating func null(_ k: String?) {
        key(k)
        text += "null"
    }

    /// Quotes and escapes per RFC 8259.
    static func appendQuoted(_ s: String, to out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        out += "\""
    }
}
