// Every reason berth closes an upstream connection instead of reusing it; the raw values are the stats labels.

/// Why an upstream connection was closed rather than pooled. One enum, so stats labels cannot drift from the code.
enum CloseReason: String, CaseIterable, Sendable {
    /// The upstream was paused by the orchestrator.
    case paused
    /// /evict closed it, or a slot was needed: the global limit's for another upstream, or its own for a request
    /// that may not reuse a connection (a CONNECT, a retry), which must go out on a fresh one.
    case evicted
    /// Idle for longer than the idle timeout.
    case idleTimeout = "idle-timeout"
    /// Idle for as long as its server's `Keep-Alive: timeout=N` allows, less a margin (`KeepAliveHint`), when that
    /// is shorter than the idle timeout.
    case keepAliveHint = "keep-alive-hint"
    /// Became readable (data or EOF) while idle: the server closed it or misbehaved.
    case peerClosedIdle = "peer-closed-idle"
    /// Served the maximum number of requests.
    case maxRequests = "max-requests"
    /// Older than the maximum connection age.
    case maxAge = "max-age"
    /// An I/O error, a timeout or invalid bytes from the upstream.
    case error
    /// The response was not read to its end with known framing.
    case responseIncomplete = "response-incomplete"
    /// The request was not sent to its end (the caller went away, the server answered early, or its head could not
    /// be written to the connection: out of memory, or the connection already closed), or the server had not
    /// acknowledged all of it when its answer ended (an early answer read on after: `peerStillTaking`).
    case requestIncomplete = "request-incomplete"
    /// The upstream asked to close (Connection: close, or HTTP/1.0 without keep-alive).
    case upstreamClose = "upstream-close"
    /// Opened before the last /resume or VM restore: an earlier epoch is never reused.
    case staleEpoch = "stale-epoch"
    /// The connection carried a tunnel (Upgrade or CONNECT), which has ended: counted when the tunnel gives its slot back.
    case upgraded
    /// The caller went away before the exchange ended.
    case callerAborted = "caller-aborted"
    /// berth is shutting down.
    case shutdown
    /// A reused connection's request stayed unacknowledged by the peer's kernel: the peer vanished without a word.
    case deadPeer = "dead-peer"
    /// Idle when a request named a new generation for its address (`Berth-Generation`): it reached an older one.
    case generation

    /// Idle connections berth drops on its own initiative end with RST instead of FIN: an idle keep-alive connection
    /// has nothing in flight to lose, the close costs less (a /pause of 1,000 connections is bounded by it), and no
    /// TIME_WAIT is left behind, which freeze cycles would otherwise pile up by the thousand.
    var closesWithReset: Bool {
        switch self {
        case .paused, .evicted, .idleTimeout, .keepAliveHint, .maxAge, .staleEpoch, .shutdown, .deadPeer, .generation: return true
        default: return false
        }
    }
}
