// How counts, ports, booleans and enumerations are written in configuration.
import Logging

/// Parsers for the non-duration value kinds; each throws a problem about the text alone.
enum ConfigValueSyntax {
    /// A count of at least 1.
    static func positiveInt(_ text: String) throws(ValueProblem) -> Int {
        guard text.isASCIIDigits, let value = Int(text) else {
            throw ValueProblem("\"\(text)\" is not a whole number")
        }
        guard value > 0 else { throw ValueProblem("\"\(text)\" must be at least 1") }
        return value
    }

    /// A TCP port a connection may go to.
    static func port(_ text: String) throws(ValueProblem) -> Int {
        guard text.isASCIIDigits, let value = Int(text), (1...65535).contains(value) else {
            throw ValueProblem("\"\(text)\" is not a port (1 to 65535)")
        }
        return value
    }

    /// `true`/`false`, also `yes`/`no`, `on`/`off` and `1`/`0`, since YAML 1.1 users write those.
    static func bool(_ text: String) throws(ValueProblem) -> Bool {
        switch text.lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        default: throw ValueProblem("\"\(text)\" is not true or false")
        }
    }

    /// A log encoding.
    static func logFormat(_ text: String) throws(ValueProblem) -> LogFormat {
        guard let format = LogFormat(rawValue: text.lowercased()) else {
            throw ValueProblem("\"\(text)\" is not a log format (write json or logfmt)")
        }
        return format
    }

    /// A swift-log level name, kept as text in the configuration.
    static func logLevel(_ text: String) throws(ValueProblem) -> String {
        guard let level = Logger.Level(rawValue: text.lowercased()) else {
            let names = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")
            throw ValueProblem("\"\(text)\" is not a log level (write one of \(names))")
        }
        return level.rawValue
    }
}

extension StringProtocol {
    /// Non-empty and only 0-9: `Int(_:)` alone would also take a sign, and `isNumber` takes other scripts' digits.
    var isASCIIDigits: Bool { !isEmpty && allSatisfy { $0.isASCII && $0.isNumber } }
}
