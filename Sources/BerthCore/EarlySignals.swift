// SIGHUP, SIGTERM, SIGINT and SIGQUIT that arrive while berth starts, before its signal watch exists: held, then handed to it.
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
    /// The signals held: a reload, and the stops (SIGQUIT is nginx's graceful stop, and drains as SIGTERM does;
    /// SIGXCPU, the kernel's warning at the soft RLIMIT_CPU before the hard limit's SIGKILL, drains too, and berth
    /// then exits as a failure: `BerthServer.handleSignal`).
    static let held: [Int32] = [SIGHUP, SIGTERM, SIGINT, SIGQUIT, SIGXCPU]

    /// Ignored for the proxy's whole life: nginx's reopen-logs (USR1) and binary upgrade (USR2), sent by a copied
    /// logrotate `postrotate` or an operator's habit, ended berth by their default action, its accepted requests cut.
    /// berth writes its logs to stdout and stderr, so there is nothing to reopen. SIGXFSZ too, as Apache httpd and
    /// PostgreSQL ignore it: a stderr file at RLIMIT_FSIZE raised it on the next log line and its default action
    /// killed berth; ignored, the write fails (EFBIG) and `StderrWriter` drops the line. SIGALRM too: berth sets no
    /// alarm, so one is a stray (a tool's `kill -ALRM`), which nginx catches and goes on from.
    static let ignored: [Int32] = [SIGUSR1, SIGUSR2, SIGXFSZ, SIGALRM]

    /// Notes the held signals from now on instead of acting on them. The executable blocked them before its
    /// libraries' initializers ran (Sources/CEarlySignals); unblocked once the handler is in, one sent meanwhile is
    /// noted now, as one sent later is.
    public static func hold() {
        note()
        unblock()
    }

    /// Puts the noting handler on the held signals and ignores the others. Called again by the server just before
    /// its watches: whatever disposition a launcher or a test left, a signal in the gap before the watch is noted,
    /// not lost, and the disposition libevent puts back when the watch is freed is this harmless one.
    static func note() {
        for sig in held {
            signal(sig) { number in
                earlySignals.bitwiseOr(1 << UInt64(number & 63), ordering: .relaxed)
            }
        }
        for sig in ignored { signal(sig, SIG_IGN) }
    }

    /// For commands that keep the default actions (`ctl`, `check-config`): the signals blocked at exec are let
    /// through as they are (one sent meanwhile acts now, as it would have).
    public static func release() { unblock() }

    /// Unblocks the held signals on this thread (the main one; threads made later inherit its mask). A launcher
    /// that left them blocked (the mask survives exec) is overruled too: berth's stop and reload must reach it.
    private static func unblock() {
        var set = sigset_t()
        sigemptyset(&set)
        for sig in held + ignored { sigaddset(&set, sig) }
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    /// Raises again each signal noted since `hold`, once the server's watch has replaced the handler.
    static func handOver() {
        let seen = earlySignals.exchange(0, ordering: .relaxed)
        for sig in held where seen & (1 << UInt64(sig)) != 0 { raise(sig) }
    }
}
