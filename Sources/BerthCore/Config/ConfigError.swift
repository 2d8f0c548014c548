// The one error configuration loading throws: a sentence for the operator, already naming where the bad value came from.

/// A configuration problem; `description` is the whole message, ready for stderr.
public struct ConfigError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The process exit status for any configuration error (EX_USAGE from sysexits.h).
    public static let exitStatus: Int32 = 64

    /// What went wrong and where, e.g. `berth.yaml:7: socket-timeout: "abc" is not a duration (write 125ms, 2s or 5m)`.
    public var message: String

    /// An error with a complete message.
    public init(_ message: String) { self.message = message }

    /// The message itself.
    public var description: String { message }
}

/// A complaint about one value, before it is known which flag, variable or file line it came from.
struct ValueProblem: Error {
    var message: String
    /// For a value inside a mapping (`tls: {min-version: ...}`): the entry at fault and its line, which the error
    /// names instead of the mapping's.
    var entry: (name: String, line: Int)?
    init(_ message: String, entry: (name: String, line: Int)? = nil) {
        self.message = message
        self.entry = entry
    }
}
