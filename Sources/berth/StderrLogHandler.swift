// Log lines on stderr as JSON or logfmt; stdout stays free for the one ready line the server prints.
import BerthCore
import Foundation
import Logging

/// A swift-log handler writing one line per message to stderr.
struct StderrLogHandler: LogHandler {
    let label: String
    let format: LogFormat
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    /// A handler for `label` in `format`, dropping messages below `logLevel`.
    init(label: String, format: LogFormat, logLevel: Logger.Level) {
        self.label = label
        self.format = format
        self.logLevel = logLevel
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var fields: [(String, String)] = [
            ("ts", LogTimestamp.now()), ("level", event.level.rawValue), ("label", label), ("msg", "\(event.message)"),
        ]
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        fields += merged.sorted { $0.key < $1.key }.map { ($0.key, "\($0.value)") }
        // A line must fit in PIPE_BUF (`lineLimit`): a longer one cannot go to a pipe in one write(2), and would
        // wait there for the reader. Values come from requests too (the audit line's method and target, as a
        // client of the admin port sent them, refused ones included), so a line that would not fit is composed
        // again with every value cut, as the access log cuts a request's values.
        var line = compose(fields)
        for cap in Self.valueCaps where line.utf8.count >= Self.lineLimit {
            line = compose(fields.map { ($0, Self.cut($1, to: cap)) })
        }
        // One write per line keeps lines whole when several threads log at once; a stderr that is full or closed
        // loses the line (FileHandle would block the loop, or trap on EPIPE).
        StderrWriter.write(line + "\n")
    }

    /// The longest line, newline included, that goes to stderr in one write(2): PIPE_BUF, what a pipe with room
    /// (poll's POLLOUT: a free page) takes at once.
    static let lineLimit = 4096

    /// The caps tried in turn on every value of a line that does not fit: the access log's 256 bytes, then less
    /// for a line of many fields.
    static let valueCaps = [256, 64, 16]

    /// `fields` as one line in the handler's format.
    private func compose(_ fields: [(String, String)]) -> String {
        switch format {
        case .json: return "{" + fields.map { "\(Self.jsonString($0)):\(Self.jsonString($1))" }.joined(separator: ",") + "}"
        case .logfmt: return fields.map { "\($0)=\(Self.logfmtValue($1))" }.joined(separator: " ")
        }
    }

    /// `text` cut to at most `cap` UTF-8 bytes, on a character boundary, and ending in `...` when cut.
    static func cut(_ text: String, to cap: Int) -> String {
        guard text.utf8.count > cap else { return text }
        var out = String.UnicodeScalarView()
        var bytes = 0
        for scalar in text.unicodeScalars {
            bytes += String(scalar).utf8.count
            guard bytes <= cap else { break }
            out.append(scalar)
        }
        return String(out) + "..."
    }

    /// `text` as a JSON string literal.
    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// `text` bare when logfmt allows it, otherwise quoted as a JSON string, which logfmt readers accept.
    static func logfmtValue(_ text: String) -> String {
        let needsQuotes = text.isEmpty || text.unicodeScalars.contains { $0 == " " || $0 == "=" || $0 == "\"" || $0.value < 0x20 }
        return needsQuotes ? jsonString(text) : text
    }
}
