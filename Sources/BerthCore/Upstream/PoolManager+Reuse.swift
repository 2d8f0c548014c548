// A reused connection whose end came behind its last answer, in the loop pass it went idle: traded for a fresh connect.
import EventLoop

extension PoolManager {
    /// An idle connection checked out for a request. One that went idle in this same loop pass has not been polled
    /// since: a FIN or bytes that came in one segment with its last answer sit unread, and the idle watch, which
    /// would drop it on the next poll, has not run. A request read in that pass (another caller's: the connection's
    /// own caller and its waiters are looked for at the release, item 135) would go out across the origin's end, to
    /// an origin that may read it and never answer (item 146). Such a connection gets one read first; an end or
    /// bytes close it as the idle watch would (`peer-closed-idle`), and its slot becomes a connect for the request.
    @inline(__always)
    func reuseUnlessEnded(_ lease: consuming UpstreamLease, _ pool: Upstream) -> Acquire {
        if _slowPath(lease.conn.channel.wentIdleThisPass) && lease.conn.channel.endsBehindLastRead() {
            return .connect(trade(lease, closing: .peerClosedIdle))
        }
        pool.counters[.reused] &+= 1
        return .reuse(lease)
    }
}
