// `berth ctl`: the operator's client for a running berth's admin API (pause, resume, evict, watch, stats, top).
import ArgumentParser
import BerthCore
import Foundation

/// The `ctl` group; each subcommand is one admin call (or, for `top`, a loop of them).
struct CtlCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ctl",
        abstract: "Talk to a running berth's admin API.",
        discussion: """
            The admin address and token come from --admin and --token-file, else from \
            \(ConfigKey.admin.environmentVariable) and \(ConfigKey.adminTokenFile.environmentVariable) (the variables \
            the server reads), else the server's default admin address. A wildcard host (0.0.0.0, [::], :PORT) is \
            reached on loopback; unix:PATH connects to a Unix socket.
            Exit status: 0 on success, \(CtlError.serverStatus) when berth answered with an error (its message is \
            printed), \(CtlError.unreachableStatus) when berth could not be reached or answered something that is not \
            HTTP, 64 on a usage error.

            EXAMPLES
              berth ctl pause 10.0.0.5:8080 --drain 2s
              berth ctl resume 10.0.0.5:8080 --prewarm 2
              berth ctl stats
              berth ctl stats 10.0.0.5:8080 --json
              BERTH_ADMIN=127.0.0.1:9901 berth ctl top
            """,
        subcommands: [
            CtlPause.self, CtlResume.self, CtlEvict.self, CtlWatch.self, CtlUnwatch.self, CtlStats.self, CtlTop.self,
        ]
    )
}

/// Options every `ctl` subcommand takes.
///
/// `--admin` (and `--admin-token-file`) are the server's own flags, parsed by the root command before `ctl` sees the
/// arguments: ArgumentParser gives an option to the first command of the stack that declares it. They name the same
/// admin listener and token, so `ctl` reads them from there instead of declaring a second, never-filled `--admin`.
struct CtlOptions: ParsableArguments {
    @OptionGroup(visibility: .private) var server: ConfigOptions

    @Option(name: .customLong("token-file"), help: ArgumentHelp(
        "File holding the admin bearer token (or --admin-token-file) [\(ConfigKey.adminTokenFile.environmentVariable)]. "
            + "The admin address is --admin HOST:PORT or unix:PATH [\(ConfigKey.admin.environmentVariable)].", valueName: "file"))
    var tokenFile: String?

    @Option(name: .customLong("timeout"), help: ArgumentHelp("How long to wait for berth, in seconds: for the name lookup, the connect, and the whole answer.", valueName: "seconds"))
    var timeout: Double = 30

    @Flag(name: .customLong("json"), help: "Print berth's JSON answer as it came instead of a readable summary.")
    var json = false

    /// A client for the chosen berth; the flags beat the variables, which beat the server's default.
    func client(environment: [String: String] = ProcessInfo.processInfo.environment) throws(CtlError) -> CtlClient {
        let variable = environment[ConfigKey.admin.environmentVariable].flatMap { $0.isEmpty ? nil : $0 }
        let address = server[.admin] ?? variable ?? BerthConfiguration.defaults().admin.description
        let target = try CtlTarget(parsing: address)
        var token: String? = nil
        if let file = tokenFile ?? server[.adminTokenFile] ?? environment[ConfigKey.adminTokenFile.environmentVariable], !file.isEmpty {
            token = try Self.readToken(file)
        }
        // At most a day, as every duration berth reads: the poll and socket timeouts take it as Int32 milliseconds
        // and whole seconds, which trapped on 1e7 (review7).
        guard timeout > 0, timeout <= 86_400 else { throw CtlError(usage: "--timeout must be a positive number of seconds, at most 86400") }
        return CtlClient(target: target, token: token, timeout: timeout)
    }

    /// The token as the server reads it: the file's contents without surrounding whitespace; empty is an error.
    static func readToken(_ path: String) throws(CtlError) -> String {
        let text: String
        // The server's reader: a FIFO (whose open waits for a writer), a device or a huge file is refused at once.
        do { text = try ConfigurationLoader.readFromDisk(path) } catch {
            throw CtlError(usage: "cannot read the token file \(path): \(error)")
        }
        let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else { throw CtlError(usage: "the token file \(path) is empty") }
        // As the server refuses it (adv12): a line break inside would become a header field of its own.
        guard !token.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw CtlError(usage: "the token in \(path) holds a control character (a line break?); keep it on one line")
        }
        return token
    }
}

/// How every subcommand prints its answer.
extension CtlOptions {
    /// The answer as JSON (`--json`, verbatim) or as the readable text `readable` makes of it.
    func output(_ answer: (raw: Data, object: [String: Any]), readable: ([String: Any]) -> String) {
        if json {
            FileHandle.standardOutput.write(answer.raw)
            if answer.raw.last != 10 { FileHandle.standardOutput.write(Data([10])) }
        } else {
            // The summary's own newlines stay; one inside a value the server sent would print a line of its own.
            print(ctlPrintable(readable(ctlPrintableValues(answer.object)), keepingNewlines: true))
        }
    }
}

/// A failure of `berth ctl`, with the exit status it ends in.
struct CtlError: Error, CustomStringConvertible {
    /// berth answered 4xx or 5xx.
    static let serverStatus: Int32 = 1
    /// berth could not be reached, or its answer was not HTTP (EX_UNAVAILABLE).
    static let unreachableStatus: Int32 = 69
    /// Bad flags or files (EX_USAGE, as ArgumentParser's own errors).
    static let usageStatus: Int32 = 64

    var description: String
    var status: Int32
    /// The HTTP status berth answered with, for a server error.
    var httpStatus: Int? = nil

    /// berth could not be reached or spoke nonsense.
    init(unreachable message: String) { description = message; status = Self.unreachableStatus }
    /// The command line or a file it names is wrong.
    init(usage message: String) { description = message; status = Self.usageStatus }
    /// berth answered with the error status `http`.
    init(server message: String, http: Int) { description = message; status = Self.serverStatus; httpStatus = http }
}

/// Runs `body`, turning a `CtlError` into its message on stderr and its exit status.
func ctlRun(_ body: () throws(CtlError) -> Void) throws {
    do {
        try body()
    } catch {
        FileHandle.standardError.write(Data("berth ctl: \(ctlPrintable(error.description))\n".utf8))
        throw ExitCode(error.status)
    }
}

/// `text` with every control character (C0 but the newlines kept, DEL, C1) written as `\u{1B}`: what a server sends
/// reaches a terminal, where ESC and CSI sequences would retitle, clear or recolour it.
func ctlPrintable(_ text: String, keepingNewlines: Bool = false) -> String {
    var out = String.UnicodeScalarView()
    for u in text.unicodeScalars {
        let control = u.value < 0x20 || (0x7F...0x9F).contains(u.value)
        if control && !(keepingNewlines && u == "\n") {
            out.append(contentsOf: "\\u{\(String(u.value, radix: 16, uppercase: true))}".unicodeScalars)
        } else {
            out.append(u)
        }
    }
    return String(out)
}

/// `object` with every string in it, keys too, made `ctlPrintable` (newlines included), at any depth.
func ctlPrintableValues(_ object: [String: Any]) -> [String: Any] {
    func clean(_ value: Any) -> Any {
        switch value {
        case let text as String: return ctlPrintable(text)
        case let dict as [String: Any]: return ctlPrintableValues(dict)
        case let list as [Any]: return list.map(clean)
        default: return value
        }
    }
    var out: [String: Any] = [:]
    for (key, value) in object { out[ctlPrintable(key)] = clean(value) }
    return out
}
