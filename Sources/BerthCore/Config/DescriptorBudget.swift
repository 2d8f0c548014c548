// How berth's descriptors (RLIMIT_NOFILE) are shared: upstream connections, callers, the admin and berth's own.
import Glibc

/// The split of the process's descriptor limit, so that callers can never take the descriptors the admin API and the
/// upstream connections need (HAProxy derives maxconn from the limit the same way). Pure apart from `nofile()`.
public enum DescriptorBudget {
    /// Admin connections open at once; past it a new one is closed at once, so the admin has a share of its own.
    public static let adminConnections = 16
    /// berth's own descriptors, whatever the load: stdio, the listeners, each loop's epoll, eventfd, signal pipe,
    /// resolver sockets and inotify descriptor, the files a reload reads, and room for a caller being refused.
    public static let reserveBase = 32
    public static let reservePerWorker = 8
    /// With two workers or more, the callers each keeps at `max-callers` while it asks the others for room
    /// (`Worker.findRoomElsewhere`): each holds its descriptor meanwhile, and a flood at the limit keeps every worker at
    /// this many. Outside the budget, they took the admin's and the upstreams' descriptors (300 of 300 with 8 workers).
    public static let awaitingRoomPerWorker = 16

    /// berth's own descriptors with `workers` workers: its reserve, and the callers waiting for room.
    public static func own(workers: Int) -> Int {
        reserveBase + reservePerWorker * workers + (workers > 1 ? awaitingRoomPerWorker * workers : 0)
    }

    /// Descriptors not available to callers: upstream connections (`maxTotal`), the admin's share and berth's own.
    /// Saturates at Int.max: counts are unbounded in the configuration, and a sum that trapped killed a reload.
    public static func reserved(maxTotal: Int, workers: Int) -> Int {
        saturatingSum(maxTotal, adminConnections + own(workers: workers))
    }

    /// `a + b` for non-negative counts, Int.max when it would overflow.
    static func saturatingSum(_ a: Int, _ b: Int) -> Int {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? Int.max : sum
    }

    /// `auto`'s value: what the limit leaves for callers, or nil when it leaves fewer than one per worker.
    public static func autoCallers(nofile: Int, maxTotal: Int, workers: Int) -> Int? {
        let left = nofile - reserved(maxTotal: maxTotal, workers: workers)
        return left >= workers ? left : nil
    }

    /// The process's soft RLIMIT_NOFILE (a very large or infinite limit reads as Int32.max).
    public static func nofile() -> Int {
        var r = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &r) == 0 else { return Int(Int32.max) }
        // RLIM_INFINITY is all ones, above the cap as well.
        return Int(min(r.rlim_cur, rlim_t(Int32.max)))
    }

    /// `configuration` with `max-callers` worked out: `auto` becomes its value under `nofile`. Throws when the limit
    /// leaves no room for callers; returns a warning when an explicit value does not fit under it.
    public static func resolve(_ configuration: inout BerthConfiguration, nofile: Int) throws(ConfigError) -> String? {
        let limits = configuration.limits
        let workers = configuration.workers
        let reserved = reserved(maxTotal: limits.maxTotal, workers: workers)
        guard let explicit = limits.maxCallers else {
            guard let n = autoCallers(nofile: nofile, maxTotal: limits.maxTotal, workers: workers) else {
                throw ConfigError("RLIMIT_NOFILE (\(nofile)) leaves no descriptors for callers: max-total (\(limits.maxTotal)), "
                    + "the admin (\(adminConnections)) and berth's own (\(own(workers: workers))) take \(reserved); "
                    + "raise the limit (ulimit -n, LimitNOFILE=) or lower max-total")
            }
            configuration.limits.maxCallers = n
            return nil
        }
        if explicit < workers {
            throw ConfigError("\(ConfigKey.maxCallers.name) (\(explicit)) is below workers (\(workers)); it must be at least \(workers), one caller per worker")
        }
        guard saturatingSum(explicit, reserved) > nofile else { return nil }
        return "max-callers (\(explicit)) and max-total (\(limits.maxTotal)) with berth's own \(own(workers: workers) + adminConnections) "
            + "exceed RLIMIT_NOFILE (\(nofile)): descriptors may run out (accepts pause, connects fail); the admin keeps one in reserve"
    }
}
