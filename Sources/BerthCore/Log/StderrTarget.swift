// One write(2) of a log line's bytes to stderr that never waits, whatever other workers or processes write there.
import Glibc
import EventLoop

/// How `StderrWriter` hands bytes to fd 2. It polls and writes only when stderr takes bytes; with --workers N the
/// room one worker's poll saw (a pipe's free page) could be taken by another worker's line before its write, which
/// then slept in the kernel until the log reader read, its loop and every caller on it stalled (h-left). So a pipe,
/// the usual stderr of a supervised process, is written through a description of its own that does not block
/// (`pipe`): at most PIPE_BUF bytes go in whole or fail at once (EAGAIN), whoever else writes, with no poll.
/// Anything else (a file, a terminal, a socket, a pipe /proc cannot open) is polled and written under one lock
/// across the process (`lock`), so no worker takes the room another's poll saw. No write of at most PIPE_BUF is
/// split by another: a pipe's are atomic, a regular file's and a terminal's are serialised by the kernel.
enum StderrTarget {
    /// When stderr is a pipe, a second open file description of it with O_NONBLOCK (`/proc/self/fd/2`), which
    /// leaves the shared one, and whoever else holds it, blocking as it was; -1 otherwise.
    private static let pipe: CInt = {
        guard DescriptorKind.isPipe(2) else { return -1 }
        return open("/proc/self/fd/2", O_WRONLY | O_NONBLOCK | O_CLOEXEC)
    }()

    /// The one lock of the poll-then-write path in this process (the workers' loops, the home loop, the logger).
    private static let lock = ThreadLock(())

    /// Writes up to PIPE_BUF bytes of `p` if stderr takes them now: the count written; 0 when stderr is not ready
    /// (a full pipe, a poll that found no room); -1 with `errno` set when the write failed.
    static func write(_ p: UnsafeRawPointer, _ count: Int) -> Int {
        let n = min(count, Int(PIPE_BUF))
        if pipe >= 0 {
            while true {
                let w = Glibc.write(pipe, p, n)
                if w < 0 && errno == EINTR { continue }
                if w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return 0 }
                return w
            }
        }
        return lock.withLock { _ in
            while true {
                var ready = pollfd(fd: 2, events: Int16(POLLOUT), revents: 0)
                let polled = poll(&ready, 1, 0)
                if polled < 0 && errno == EINTR { continue }
                // POLLERR (a pipe whose reader is gone) goes on to the write, which fails at once and says why.
                guard polled == 1, ready.revents != 0 else { return 0 }
                let w = Glibc.write(2, p, n)
                if w < 0 && errno == EINTR { continue }
                return w
            }
        }
    }
}
