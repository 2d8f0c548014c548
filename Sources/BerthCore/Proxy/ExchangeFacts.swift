// What the pool and the clock said about one exchange, recorded where the session already knows it, for the access log.
import EventLoop

/// The facts of an exchange that only the access log reads: the connection the pool gave the request and the waits
/// (the generation is the exchange's own, `Exchange.generation`). Each is a plain store at a point the session passes anyway (times it already read), so with
/// the access log off they cost a few stores and no call; `AccessField` turns them into the line's fields.
struct ExchangeFacts {
    /// The connection the request first went out on (a retry always goes on a fresh one, whose facts are its
    /// connect's): whether the pool reused it, when it was opened, how long it had been idle, and its epoch.
    var reused = false
    var openedAt: Nanos = 0
    /// When it last went idle in the pool (its idle entry's time); 0 when it was not taken from the idle stack.
    var idleSince: Nanos = 0
    /// When the request first went out (0: never sent), which `openedAt` and `idleSince` are measured to.
    var firstSentAt: Nanos = 0
    var epoch: UInt64 = 0
    /// Time spent queued for a connection, every attempt's wait added up.
    var acquireWait: Nanos = 0
    /// When the exchange's one connect started (0: none; only a fresh connection is connected, and a retry is the
    /// only second attempt, which follows a reused connection, so there is at most one per exchange).
    var connectStartedAt: Nanos = 0
    /// When that connect finished: the connection's `openedAt`.
    var connectedAt: Nanos = 0

    /// Clears the facts for the next request, field by field, with plain stores.
    @inline(__always)
    mutating func reset() {
        reused = false
        openedAt = 0
        idleSince = 0
        firstSentAt = 0
        epoch = 0
        acquireWait = 0
        connectStartedAt = 0
        connectedAt = 0
    }

    /// The request goes out on a connection opened at `openedAt` in `epoch`; only the first attempt's connection is
    /// the pool's choice worth reporting, and a new one's opening ends the exchange's connect.
    @inline(__always)
    mutating func sent(openedAt: Nanos, epoch: UInt64, reused: Bool, idleSince: Nanos, now: Nanos) {
        if !reused { connectedAt = openedAt }
        guard firstSentAt == 0 else { return }
        firstSentAt = now
        self.reused = reused
        self.openedAt = openedAt
        self.idleSince = idleSince
        self.epoch = epoch
    }
}
