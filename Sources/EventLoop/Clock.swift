// Monotonic time in nanoseconds: the one clock the shell reads and hands to the pure state machines.
import Glibc

/// Nanoseconds on the monotonic clock; state machines take these as inputs so tests can pass any value.
package typealias Nanos = Int64

/// Reads CLOCK_MONOTONIC.
package enum MonotonicClock {
    /// Now, in nanoseconds since an arbitrary fixed point.
    @inline(__always)
    package static func now() -> Nanos {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Nanos(ts.tv_sec) &* 1_000_000_000 &+ Nanos(ts.tv_nsec)
    }
}
