// An answer whose end berth read but whose tail still waits for the caller: its access line and its cut, once.
import EventLoop

/// What a session keeps of an exchange that ended in berth while the caller's output still held part of its answer
/// (a caller reading slower than the upstream sent, or not at all): the exchange itself is cleared for the next one.
struct OwedTail {
    /// Whether such a tail waits: the next pipelined head waits for it too (nginx starts one only after the last
    /// answer went out), so at most one answer is owed at a time and its line is never written behind a later one's.
    var owed = false
    /// The answer's own cause when berth made it (a 502 behind a stalled caller): its line and count keep it.
    var cause: ErrorCause?
    /// The upstream it came from, for the per-upstream count of a cut.
    var pool: Upstream?
    /// Its access line when the log is on.
    var line = HeldAccessLine()
}

extension ProxySession {
    /// The exchange's answer is all written to the caller's output (flushed as far as the kernel took it): its access
    /// line goes out now if nothing is left in berth, else it waits with the tail (`tailLeft`, `tailCut`).
    @inline(__always)
    func logAnswerEnd() {
        guard _slowPath(caller.pendingOutput > 0) else { return worker.accessLog(self) }
        oweTail()
    }

    @inline(never)
    private func oweTail() {
        tail.owed = true
        tail.cause = exchange.errorCause
        tail.pool = exchange.pool
        worker.holdAccessLine(self, into: &tail.line)
    }

    /// The owed tail's last byte went to the kernel: the line goes out as it was, a whole answer.
    func tailLeft() {
        guard tail.owed, caller.pendingOutput == 0 else { return }
        tail.owed = false
        tail.pool = nil
        worker.writeHeldLine(tail.line, cut: nil)
        tail.line.bytes = []
    }

    /// The connection closes with part of the owed answer still in berth (the caller idle timeout, the drain's end,
    /// the caller's own failure): the caller got it cut, so its line says `response-truncated` and /stats counts it,
    /// once, as that line says. An answer of berth's own keeps its cause, already counted when it was made.
    func tailCut() {
        guard tail.owed else { return }
        guard caller.pendingOutput > 0 else { return tailLeft() }
        tail.owed = false
        if tail.cause == nil {
            tail.pool?.counters.countFailure(.responseTruncated)
            worker.counters.countFailure(.responseTruncated)
        }
        tail.pool = nil
        worker.writeHeldLine(tail.line, cut: tail.cause ?? .responseTruncated)
        // Its memory goes too: an idle caller keeps a few KiB (`HeadBuffers`), not a line for each that once lagged.
        tail.line.bytes = []
    }
}
