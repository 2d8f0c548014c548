// Monotonic time in nanoseconds: the one clock the shell reads and hands to the pure state machines.
import Glibc

/// Nanoseconds on the monotonic clock; state machines take these as inputs so tests can pass any value.
typealias Nanos = Int64

/// Reads CLOCK_MONOTONIC.
enum MonotonicClock {
    /// Now, in nanoseconds since an arbitrary fixed point.
    @inline(__always)
    static func now() -> Nanos {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Nanos(ts.tv_sec) &* 1_000_000_000 &+ Nanos(ts.tv_nsec)
    }
}

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
