// How long berth keeps an idle upstream connection whose server announced `Keep-Alive: timeout=N`.

/// The server's own idle timer starts when it has written the response; berth's starts a one-way delay later, and
/// a request berth writes reaches the server a one-way delay after that. So berth must stop reusing a connection a
/// margin before N that covers a round trip plus both timers' lateness: a tenth of N, at least one second (longer
/// than any round trip between regions, and than a busy loop's lateness), and at most half of N (a 1 s hint still
/// leaves half a second of reuse). Apache HttpClient's keep-alive strategy honours the hint the same way, with no
/// margin; Envoy ignores it (envoyproxy/envoy#28105). `timeout=0` is no hint: Node.js floors its keep-alive timeout
/// to whole seconds, so 0 says only "under a second", with no room for a margin; berth keeps its own idle timeout
/// and its idle watch, which sees the server's close, as for a server that announces nothing.
enum KeepAliveHint {
    /// The idle limit for an announced timeout of `seconds` (`.max` when none was announced, `seconds` < 0, or 0).
    static func idleLimit(announcedSeconds seconds: Int32) -> Nanos {
        guard seconds > 0 else { return .max }
        let n = Nanos(seconds) * 1_000_000_000
        let margin = min(max(n / 10, 1_000_000_000), n / 2)
        return n - margin
    }
}
