// Writing one log line to stderr without ever blocking the loop or ending the process, whatever stderr is.
import Glibc
import EventLoop

/// stderr is whatever berth was started with: often a pipe to a log collector, which may stop reading (the pipe
/// fills, and a blocking write(2) would stall the worker's loop and every caller on it) or die (EPIPE, which
/// Foundation's FileHandle turns into a trap). A log line is worth less than the requests, so one that stderr cannot
/// take at once is dropped. SIGPIPE is ignored by `BerthServer.run`.
public enum StderrWriter {
    /// Writes `line` to fd 2 as far as it goes now: each write(2) only after poll(2) says stderr takes bytes, and of
    /// at most PIPE_BUF bytes, and the rest of the line is dropped at the first refusal. A pipe with room (a free
    /// page) takes PIPE_BUF bytes at once; more could wait in write(2) for the reader (stderr is a blocking file
    /// that berth shares, so it stays blocking), so a longer line goes in pieces. Lines are made to fit
    /// (`StderrLogHandler.lineLimit`, the access log's cut values), so a line is one write(2), whole or not at all.
    ///
    /// With --workers N the room one worker's poll saw (a pipe's free page) could be taken by another worker's line
    /// before its write, which then slept in the kernel until the log reader read, its loop and every caller on it
    /// stalled (h-left). So a pipe, the usual stderr of a supervised process, is written through a description of
    /// its own that does not block (`pipe`): a line of at most PIPE_BUF goes in whole or fails at once (EAGAIN),
    /// whoever else writes, no poll needed. Anything else (a file, a terminal, a socket, a pipe /proc cannot open)
    /// polls and writes under one lock across the process (`lock`), so no worker takes another's room. No write
    /// splits a line of at most PIPE_BUF: a pipe's are atomic, a regular file's and a terminal's are serialised by
    /// the kernel; the lock also keeps a longer line's pieces together.
    public static func write(_ line: UnsafeRawBufferPointer) {
        guard line.count > 0 else { return }
        if pipe >= 0 { return writePipe(line) }
        lock.withLock { _ in writeNow(line) }
    }

    /// The one lock of stderr's writers in this process (the workers' loops, the home loop, the logger).
    private static let lock = ThreadLock(())

    /// When stderr is a pipe, a second open file description of it with O_NONBLOCK (`/proc/self/fd/2`), which
    /// leaves the shared one, and whoever else holds it, blocking as it was; -1 otherwise.
    private static let pipe: CInt = {
        var st = stat()
        guard fstat(2, &st) == 0, st.st_mode & S_IFMT == S_IFIFO else { return -1 }
        return open("/proc/self/fd/2", O_WRONLY | O_NONBLOCK | O_CLOEXEC)
    }()

    /// One line into the nonblocking pipe, in pieces of PIPE_BUF, dropped from the first refusal.
    private static func writePipe(_ line: UnsafeRawBufferPointer) {
        guard var p = line.baseAddress else { return }
        var left = line.count
        while left > 0 {
            let n = Glibc.write(pipe, p, min(left, Int(PIPE_BUF)))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return }
            p += n
            left -= n
        }
    }

    private static func writeNow(_ line: UnsafeRawBufferPointer) {
        guard var p = line.baseAddress else { return }
        var left = line.count
        while left > 0 {
            var ready = pollfd(fd: 2, events: Int16(POLLOUT), revents: 0)
            let polled = poll(&ready, 1, 0)
            if polled < 0 && errno == EINTR { continue }
            guard polled == 1, ready.revents & Int16(POLLOUT) != 0 else { return }
            let n = Glibc.write(2, p, min(left, Int(PIPE_BUF)))
            if n < 0 && errno == EINTR { continue }
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
