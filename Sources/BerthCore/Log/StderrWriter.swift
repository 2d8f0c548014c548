// Writing one log line to stderr without ever blocking the loop or ending the process, whatever stderr is, and saying
// afterwards how many lines it could not take.
import Glibc
import Synchronization

/// stderr is whatever berth was started with: often a pipe to a log collector, which may stop reading (the pipe
/// fills, and a blocking write(2) would stall the worker's loop and every caller on it) or die (EPIPE, which
/// Foundation's FileHandle turns into a trap), or a file on a disk that fills up. A log line is worth less than the
/// requests, so one that stderr cannot take at once is dropped. SIGPIPE is ignored by `BerthServer.run`.
///
/// Dropped lines are not forgotten: once stderr takes lines again, the next one written is preceded by a report of
/// how many were lost and the last reason (`reportLosses`), as journald reports the messages it suppressed. A line a
/// write took only part of (a full disk or the file size limit stop a regular file mid-line) is ended with a newline
/// before anything more is written: before (adv9), the next line went straight on after the cut one, one record of
/// two that no reader could parse, and the lines lost meanwhile left no trace.
public enum StderrWriter {
    /// Lines lost, whole or in part, since the last report.
    private static let lost = Atomic<Int>(0)
    /// The errno of the last write refused; 0 when stderr was not ready (a pipe its reader is not emptying).
    private static let lastError = Atomic<Int32>(0)
    /// stderr ends inside a line: a write took part of one and refused the rest.
    private static let cut = Atomic<Bool>(false)
    /// Reports are written, in JSON when `reportsInJSON`; off for commands that are not the server.
    private static let reports = Atomic<Bool>(false)
    private static let reportsInJSON = Atomic<Bool>(false)

    /// Turns the report of lost lines on, in the log's format (the server's, at start).
    public static func reportLosses(json: Bool) {
        reportsInJSON.store(json, ordering: .relaxed)
        reports.store(true, ordering: .relaxed)
    }

    /// Writes `line` to fd 2 as far as it goes now: each write(2) only when stderr takes bytes (`StderrTarget`), and of
    /// at most PIPE_BUF bytes, and the rest of the line is dropped at the first refusal. A pipe with room (a free
    /// page) takes PIPE_BUF bytes at once; more could wait in write(2) for the reader (stderr is a blocking file
    /// that berth shares, so it stays blocking), so a longer line goes in pieces. Lines are made to fit
    /// (`StderrLogHandler.lineLimit`, the access log's cut values), so a line is one write(2), whole or not at all,
    /// except in a file that runs out of room within it (then it is ended before the next line).
    public static func write(_ line: UnsafeRawBufferPointer) {
        if _slowPath(cut.load(ordering: .relaxed) || lost.load(ordering: .relaxed) > 0) {
            guard settle() else { return lose(part: false) }
        }
        switch put(line) {
        case .whole: return
        case .none: lose(part: false)
        case .part: lose(part: true)
        }
    }

    /// Writes `text` (one whole line, newline included).
    public static func write(_ text: String) {
        var text = text
        text.withUTF8 { write(UnsafeRawBufferPointer($0)) }
    }

    /// How much of a line stderr took.
    private enum Taken { case whole, none, part }

    private static func lose(part: Bool) {
        if part { cut.store(true, ordering: .relaxed) }
        lost.add(1, ordering: .relaxed)
    }

    /// Puts right what earlier refusals left before the next line: ends the cut line, then reports the lines lost.
    /// False when stderr refused that too (the next line is then lost as well).
    private static func settle() -> Bool {
        if cut.exchange(false, ordering: .relaxed) {
            var newline: UInt8 = 10
            switch withUnsafeBytes(of: &newline, { put($0) }) {
            case .whole: break
            case .none, .part:
                cut.store(true, ordering: .relaxed)
                return false
            }
        }
        let count = lost.exchange(0, ordering: .relaxed)
        guard count > 0, reports.load(ordering: .relaxed) else { return true }
        var report = lossReport(count)
        let taken = report.withUTF8 { put(UnsafeRawBufferPointer($0)) }
        guard taken == .whole else {
            if taken == .part { cut.store(true, ordering: .relaxed) }
            lost.add(count, ordering: .relaxed)
            return false
        }
        return true
    }

    /// The report of `count` lines lost, one line in the log's format with the fields every log line has.
    private static func lossReport(_ count: Int) -> String {
        let code = lastError.load(ordering: .relaxed)
        let reason = code == 0 ? "stderr was not ready for writing (a pipe its reader is not emptying)"
            : String(cString: strerror(code))
        let ts = LogTimestamp.now()
        if reportsInJSON.load(ordering: .relaxed) {
            return "{\"ts\":\"\(ts)\",\"level\":\"warning\",\"label\":\"berth\",\"msg\":\"log lines lost\","
                + "\"lines\":\"\(count)\",\"error\":\"\(reason)\"}\n"
        }
        return "ts=\(ts) level=warning label=berth msg=\"log lines lost\" lines=\(count) error=\"\(reason)\"\n"
    }

    /// Writes `bytes` to fd 2 as far as stderr takes them now, noting the reason of a refusal.
    private static func put(_ bytes: UnsafeRawBufferPointer) -> Taken {
        guard var p = bytes.baseAddress else { return .whole }
        var left = bytes.count
        while left > 0 {
            // Never waits, even for room another worker took (`StderrTarget`); POLLERR goes on to the write there.
            let n = StderrTarget.write(p, left)
            guard n > 0 else {
                lastError.store(n < 0 ? errno : 0, ordering: .relaxed)
                return left == bytes.count ? .none : .part
            }
            p += n
            left -= n
        }
        return .whole
    }
}
