// The loop's time unit and owned bytes under BerthCore's own names, so its pure parts (Config, Stats, the machines) need no loop import.
import EventLoop

/// Nanoseconds on the monotonic clock; declared by EventLoop's clock.
typealias Nanos = EventLoop.Nanos

/// Bytes a socket sends from their own memory; declared by EventLoop, built by `ByteWriter`.
typealias OwnedBytes = EventLoop.OwnedBytes

extension Duration {
    /// The duration in whole nanoseconds, saturating.
    var nanos: Nanos {
        let (s, atto) = components
        let (mul, o1) = s.multipliedReportingOverflow(by: 1_000_000_000)
        if o1 { return s < 0 ? .min : .max }
        let (sum, o2) = mul.addingReportingOverflow(atto / 1_000_000_000)
        return o2 ? .max : sum
    }
}
