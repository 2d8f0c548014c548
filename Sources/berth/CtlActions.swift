// `berth ctl pause|resume|evict|watch|unwatch`: one POST each, answered with a sentence (or berth's JSON with --json).
import ArgumentParser
import Foundation

/// `berth ctl pause UPSTREAM [--mode reject] [--hold 2s] [--drain 5s]` (POST /pause).
struct CtlPause: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pause", abstract: "Pause an upstream: close its idle connections now and hold (or reject) new requests.")

    @Argument(help: ArgumentHelp("The upstream.", valueName: "host:port")) var upstream: String
    @Option(help: ArgumentHelp("hold: new requests wait; reject: they get 503 at once.", valueName: "hold|reject")) var mode: String?
    @Option(help: ArgumentHelp("How long a held request waits (default: the acquire timeout).", valueName: "duration")) var hold: String?
    @Option(help: ArgumentHelp("Answer once in-flight requests end, waiting at most this long.", valueName: "duration")) var drain: String?
    @OptionGroup var options: CtlOptions

    /// Sends POST /pause and prints what berth did.
    func run() throws {
        try ctlRun { () throws(CtlError) in
            let answer = try options.client().json("POST", ctlPath("/pause", [
                ("upstream", upstream), ("mode", mode), ("hold", hold), ("drain", drain),
            ]))
            options.output(answer) { o in
                "\(o.text("upstream")) paused (mode \(o.text("mode")), epoch \(o.text("epoch"))): "
                    + "\(plural(o, "closed_idle", "idle connection")) closed, \(o.text("in_flight")) in flight"
            }
        }
    }
}

/// `berth ctl resume UPSTREAM [--prewarm N]` (POST /resume).
struct CtlResume: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume", abstract: "Resume an upstream with a new epoch and release the requests it held.")

    @Argument(help: ArgumentHelp("The upstream.", valueName: "host:port")) var upstream: String
    @Option(help: ArgumentHelp("Connections to open now, ahead of demand.", valueName: "n")) var prewarm: String?
    @OptionGroup var options: CtlOptions

    /// Sends POST /resume and prints what berth did.
    func run() throws {
        try ctlRun { () throws(CtlError) in
            let answer = try options.client().json("POST", ctlPath("/resume", [("upstream", upstream), ("prewarm", prewarm)]))
            options.output(answer) { o in
                "\(o.text("upstream")) resumed (epoch \(o.text("epoch"))): \(plural(o, "released", "held request")) released, "
                    + "\(plural(o, "prewarmed", "connection")) prewarmed"
            }
        }
    }
}

/// `berth ctl evict [UPSTREAM] [--idle-for 30s] [--forget]` (POST /evict).
struct CtlEvict: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evict", abstract: "Close idle connections, of one upstream or of all; busy ones are not touched.")

    @Argument(help: ArgumentHelp("The upstream (default: every upstream).", valueName: "host:port")) var upstream: String?
    @Option(name: .customLong("idle-for"), help: ArgumentHelp("Only connections idle at least this long.", valueName: "duration"))
    var idleFor: String?
    @Flag(help: "Also drop the upstream's entry once it has no connections (needs UPSTREAM).") var forget = false
    @OptionGroup var options: CtlOptions

    /// Sends POST /evict and prints what berth closed.
    func run() throws {
        try ctlRun { () throws(CtlError) in
            let answer = try options.client().json("POST", ctlPath("/evict", [
                ("upstream", upstream), ("idle_for", idleFor), ("forget", forget ? "true" : nil),
            ]))
            options.output(answer) { o in
                var line = "\(plural(o, "closed", "idle connection")) closed"
                if let u = o["upstream"] as? String { line += " (\(u))" }
                if o["forgotten"] as? Bool == true { line += "; entry forgotten" }
                if o["forget_pending"] as? Bool == true { line += "; entry forgotten when its last connection closes" }
                return line
            }
        }
    }
}

/// `berth ctl watch UPSTREAM --cgroup PATH` (POST /watch): pause and resume the upstream as its cgroup freezes.
struct CtlWatch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch", abstract: "Watch a container's freezer cgroup: the upstream is paused while it is frozen.")

    @Argument(help: ArgumentHelp("The upstream.", valueName: "host:port")) var upstream: String
    @Option(help: ArgumentHelp("The container's cgroup directory.", valueName: "path")) var cgroup: String
    @OptionGroup var options: CtlOptions

    /// Sends POST /watch and prints berth's answer.
    func run() throws {
        try ctlRun { () throws(CtlError) in
            let answer = try watchCall(options, ctlPath("/watch", [("upstream", upstream), ("cgroup", cgroup)]))
            options.output(answer) { o in "\(o.text("upstream")) watched: " + summary(o, skipping: ["upstream"]) }
        }
    }
}

/// `berth ctl unwatch UPSTREAM` (POST /unwatch).
struct CtlUnwatch: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "unwatch", abstract: "Stop watching an upstream's freezer cgroup.")

    @Argument(help: ArgumentHelp("The upstream.", valueName: "host:port")) var upstream: String
    @OptionGroup var options: CtlOptions

    /// Sends POST /unwatch and prints berth's answer.
    func run() throws {
        try ctlRun { () throws(CtlError) in
            let answer = try watchCall(options, ctlPath("/unwatch", [("upstream", upstream)]))
            options.output(answer) { o in "\(o.text("upstream")) no longer watched: " + summary(o, skipping: ["upstream"]) }
        }
    }
}

/// A /watch or /unwatch call; an older berth without the freezer watch answers 404, which is said plainly.
private func watchCall(_ options: CtlOptions, _ path: String) throws(CtlError) -> (raw: Data, object: [String: Any]) {
    do {
        return try options.client().json("POST", path)
    } catch where error.httpStatus == 404 && error.description.contains("no such endpoint") {
        var e = error
        e.description += " (this berth has no freezer watch: it needs a version with POST /watch and /unwatch)"
        throw e
    }
}

/// `path?name=value&...` for the parameters that are set, each value percent-encoded (only unreserved characters
/// stay as they are, so `+`, `&` and `%` in a value reach berth as themselves).
func ctlPath(_ path: String, _ params: [(String, String?)]) -> String {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~:[]")
    let parts = params.compactMap { name, value in
        value.map { "\(name)=\($0.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0)" }
    }
    return parts.isEmpty ? path : path + "?" + parts.joined(separator: "&")
}

/// "1 idle connection", "2 idle connections" for the answer's field `key`; a value that is no integer is printed as
/// it came, never as some other number.
func plural(_ o: [String: Any], _ key: String, _ noun: String) -> String {
    guard let n = ctlInteger(o[key]) else { return "\(o.text(key)) \(noun)s" }
    return "\(n) \(noun)\(n == 1 ? "" : "s")"
}

/// Whether `n` is a JSON true or false: JSONSerialization hands booleans over as NSNumbers of a class of their own,
/// and `description` printed them as 0 and 1 (`frozen 0`, `unwatched 1`), read as counts (adv11). `as? Bool` cannot
/// tell: it takes the numbers 0 and 1 too.
func ctlIsBoolean(_ n: NSNumber) -> Bool { type(of: n) == ctlBooleanClass }

/// The class JSONSerialization's true and false have.
private let ctlBooleanClass: NSNumber.Type = type(of: NSNumber(value: true))

/// A JSON number as an Int when it is one exactly (nil for 1.5, 1e300 or a string, true or false).
func ctlInteger(_ value: Any?) -> Int? {
    guard let n = value as? NSNumber, !ctlIsBoolean(n) else { return nil }
    if let i = Int(exactly: n) { return i }
    return nil
}

/// `key value, ...` for the fields of an answer whose shape `ctl` does not know in advance.
func summary(_ o: [String: Any], skipping: Set<String>) -> String {
    o.keys.sorted().filter { !skipping.contains($0) }.map { "\($0.replacingOccurrences(of: "_", with: " ")) \(o.text($0))" }
        .joined(separator: ", ")
}

/// Reads of a JSON answer's fields as text or numbers.
extension Dictionary where Key == String, Value == Any {
    /// A field as text ("-" when absent or null; JSON's true and false as those words).
    func text(_ key: String) -> String {
        switch self[key] {
        case nil, is NSNull: return "-"
        case let s as String: return s
        case let n as NSNumber: return ctlIsBoolean(n) ? (n.boolValue ? "true" : "false") : n.description
        case let v?: return "\(v)"
        }
    }

    /// A numeric field (0 when absent, or when it is no integer: `intValue` of 1e300 was Int.min, printed as a count).
    func int(_ key: String) -> Int { ctlInteger(self[key]) ?? 0 }
}
