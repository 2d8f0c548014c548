// Which pass of its loop a callback runs in, for an owner asking whether the loop has polled a socket since it parked it.
internal import CLibevent
import Glibc

/// The passes of one loop (a poll, then the callbacks of the events it found), told apart by the time libevent
/// caches at each poll. A pooled connection parked in a pass has not been polled since (`Channel.wentIdleThisPass`).
///
/// Posted work (`PostedEvents`) counts as part of the pass that posted it. It is activated at the urgent priority, so
/// libevent ends the running pass and polls, then runs it first, ahead of the idle reads that poll found: an idle
/// connection's FIN, found by that poll, is still unread when a hand-off delivered there (a caller answered and going
/// on to its pipelined request, an admin command served behind a drain notice) checks the connection out, exactly as
/// in the pass that parked it (reliability, rev20).
package final class LoopPass {
    private let raw: OpaquePointer
    /// While a posted turn runs: the stamp of the pass that posted it; otherwise `Int.min`.
    var heldOver = Int.min

    init(raw: OpaquePointer) {
        self.raw = raw
    }

    /// The time libevent cached when the loop last polled, in microseconds: the same in every callback of one pass,
    /// so a stamp taken in one callback tells a later one whether the loop has polled since. Two polls within one
    /// microsecond share a stamp, which only makes an owner look once more than it needed to.
    @inline(__always)
    var stamp: Int {
        var tv = timeval()
        event_base_gettimeofday_cached(raw, &tv)
        return tv.tv_sec &* 1_000_000 &+ tv.tv_usec
    }

    /// Whether `stamp` was taken in the running pass, or in the pass the running posted turn belongs to.
    @inline(__always)
    func isCurrent(_ taken: Int) -> Bool { taken == stamp || taken == heldOver }
}
