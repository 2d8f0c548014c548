// Writing one log line to stderr without ever blocking the loop or ending the process, whatever stderr is.
import Glibc

/// stderr is whatever berth was started with: often a pipe to a log collector, which may stop reading (the pipe
/// fills, and a blocking write(2) would stall the worker's loop and every caller on it) or die (EPIPE, which
/// Foundation's FileHandle turns into a trap). A log line is worth less than the requests, so one that stderr cannot
/// take at once is dropped. SIGPIPE is ignored by `BerthServer.run`.
public enum StderrWriter {
    /// Writes `line` to fd 2 as far as it goes now: each write(2) only when stderr takes bytes (`StderrTarget`), and of
    /// at most PIPE_BUF bytes, and the rest of the line is dropped at the first refusal. A pipe with room (a free
    /// page) takes PIPE_BUF bytes at once; more could wait in write(2) for the reader (stderr is a blocking file
    /// that berth shares, so it stays blocking), so a longer line goes in pieces. Lines are made to fit
    /// (`StderrLogHandler.lineLimit`, the access log's cut values), so a line is one write(2), whole or not at all.
    public static func write(_ line: UnsafeRawBufferPointer) {
        guard var p = line.baseAddress else { return }
        var left = line.count
        while left > 0 {
            // Never waits, even for room another worker took (`StderrTarget`).
            let n = StderrTarget.write(p, left)
            guard n > 0 else { return }
            p += n
            left -= n
        }
    }

    /// Writes `text` (one whole line, newline included).
    public static func write(_ text: String) {
        var text = text
        text.withUTF8 { write(UnsafeRawBufferPointer($0)) }
    }
}
