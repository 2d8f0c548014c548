// SIGHUP, SIGTERM and SIGINT that arrive while berth starts, before its signal watch exists: held, then handed to it.
import Glibc
import Synchronization

/// The signals seen before the server's watch exists, one bit per signal number (a lock-free atomic: the only kind
/// of memory a signal handler may touch).
private let earlySignals = Atomic<UInt64>(0)

/// Until `BerthServer` watches its signals, their default actions end the process: a SIGHUP (a reload asked right
/// after a restart) killed berth with status -1, and a SIGTERM or SIGINT while it made its workers and listeners ended
/// it by the signal instead of a drain and exit 0. `hold` notes them from the start of `berth`'s run instead;
/// `handOver` sends the noted ones again once the watch is there, which then treats them as it treats any.
public enum EarlySignals {
    /// The signals held.
    static let held: [Int32] = [SIGHUP, SIGTERM, SIGINT]

    /// Notes the held signals from now on instead of acting on them.
    public static func hold() {
        for sig in held {
            signal(sig) { number in
                earlySignals.bitwiseOr(1 << UInt64(number & 63), ordering: .relaxed)
            }
        }
    }

    /// Raises again each signal noted since `hold`, once the server's watch has replaced the handler.
    static func handOver() {
        let seen = earlySignals.exchange(0, ordering: .relaxed)
        for sig in held where seen & (1 << UInt64(sig)) != 0 { raise(sig) }
    }
}
