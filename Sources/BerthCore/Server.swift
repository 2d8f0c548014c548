// The process-level server: starts the worker and the admin listener, prints the ready line, handles signals.
import Dispatch
import Foundation
import Glibc
import Logging
import EventLoop

/// Runs berth until SIGTERM or SIGINT.
public final class BerthServer {
    /// Reads the configuration again on SIGHUP; throwing keeps the old one (the error is logged).
    public typealias Reloader = @Sendable () throws -> BerthConfiguration

    private(set) var configuration: BerthConfiguration
    let logger: Logger
    let reloader: Reloader?
    private(set) var workers: [Worker] = []
    /// The VM restore watch, on worker 0's loop; nil when off or when the machine has no source (Server+Restore.swift).
    var restoreWatch: VMRestoreWatch?
    private var admin: AdminServer?
    private var signals: [SignalWatch] = []
    /// Workers still draining after SIGTERM; nil before it. Counted on worker 0's loop, which carries the admin
    /// listener and stops last, so /readyz answers `draining` for as long as any worker drains.
    private var draining: Int?
    /// What `run()` returns: 0, or 128 + SIGXCPU once the CPU time limit's warning stopped berth.
    private var exitStatus: Int32 = 0
    /// A reload asked for and not yet run (`queueReload`).
    private var reloadQueued = false
    /// A reload's freezer watches not yet taken back or settled on every worker (`takeBackWatches`): the next reload
    /// waits for that, as its reconcile would overwrite what the take-back needs (`beforeReconcile`).
    private var reloadSettling = false
    let startedAt = MonotonicClock.now()
    /// Bearer token the admin API requires, when configured.
    var adminToken: String? { configuration.adminToken }

    /// A server for `configuration`; `reloader` serves SIGHUP.
    public init(configuration: BerthConfiguration, logger: Logger, reloader: Reloader? = nil) {
        self.configuration = configuration
        self.logger = logger
        self.reloader = reloader
    }

    /// Binds, prints `berth listening proxy=HOST:PORT admin=HOST:PORT`, serves, and returns the exit status.
    public func run() throws -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        try resolveDescriptorBudget(&configuration)
        let n = configuration.workers
        let contexts = try Self.tlsContexts(for: configuration)
        let callers = CallerGauge()
        let all = (0..<n).map { Worker(index: $0, of: n, configuration: configuration, logger: logger, contexts: contexts, callers: callers) }
        workers = all
        // The configuration's freezer watches begin before anything is served: a bad cgroup stops berth here.
        let problems = all.flatMap { $0.manager.reconcileConfiguredWatches(now: MonotonicClock.now()).map(\.problem) }
        if !problems.isEmpty {
            for w in all { w.teardown() }
            workers = []
            throw ConfigError(Array(Set(problems)).sorted().joined(separator: "\n"))
        }
        let home = all[0]
        let proxyAddr: SocketAddress
        let a: AdminServer
        do {
            proxyAddr = try listen(all)
            a = try AdminServer(base: home.base, address: try Self.address(configuration.admin),
                                permissions: Self.permissions(configuration.adminSocket), server: self, worker: home, workers: all)
        } catch {
            // A socket file already created goes with its listener.
            for w in all { w.teardown() }
            workers = []
            throw error
        }
        admin = a
        // Known before any worker runs: a connect to one of these would be berth talking to itself.
        let own = OwnListeners([proxyAddr, a.address])
        for w in all { w.ownListeners = own }
        Self.shareGenerations(all)
        Self.shareForgottenShares(all)
        // At max-callers a worker with no caller of its own to close asks these (`Worker.findRoomElsewhere`).
        for w in all { w.peers = all.filter { $0 !== w }.map { PeerWorker(worker: $0) } }
        // Noted underneath the watch: libevent puts back the disposition it found when the watch is freed at the end
        // of a shutdown (the default one made a reload sent then end berth by SIGHUP instead of exit 0), and one sent
        // before the watch is in is handed over below (ignoring SIGHUP here lost a reload sent in that gap).
        EarlySignals.note()
        for sig in EarlySignals.held {
            // Unowned: the server frees its signal watches before it goes.
            signals.append(SignalWatch(base: home.base, signal: sig) { [unowned self] in self.handleSignal(sig) })
        }
        // A reload or stop asked while berth started is acted on now, by the watch.
        EarlySignals.handOver()
        let line = "berth listening proxy=\(proxyAddr) admin=\(a.address)\n"
        // write(2) on fd 1, not stdio: scripts read this line at once even when stdout is a pipe or a file.
        _ = line.withCString { Glibc.write(1, $0, strlen($0)) }
        // Under systemd's Type=notify the start ends here, with the signal watch in: a reload queued behind the start
        // cannot reach berth while it still loads.
        SystemdNotify.send("READY=1")
        logStartup()
        applyRestoreWatch()
        let finished = DispatchSemaphore(value: 0)
        for w in all.dropFirst() {
            let box = UncheckedBox(w)
            Thread.detachNewThread {
                box.value.run()
                finished.signal()
            }
        }
        home.run()
        for _ in all.dropFirst() { finished.wait() }
        logger.info("stopped")
        restoreWatch?.close()
        restoreWatch = nil
        admin?.close()
        for s in signals { s.free() }
        signals.removeAll()
        for w in all { w.teardown() }
        workers = []
        return exitStatus
    }

    /// Opens the proxy listener on every worker and returns its address. TCP: each worker has its own listening
    /// socket on the same port (SO_REUSEPORT) and the kernel spreads callers. A Unix socket path binds only once, so
    /// worker 0 binds it and every other worker accepts from that same socket (docs/architecture.md, Threads).
    private func listen(_ all: [Worker]) throws -> SocketAddress {
        let address = try Self.address(configuration.listen)
        let home = all[0]
        if address.family == .unix {
            let bound = try home.listen(on: address, reusePort: false, permissions: Self.permissions(configuration.listenSocket),
                                        shared: all.count > 1)
            for w in all.dropFirst() { try w.listen(sharing: home) }
            return bound
        }
        let bound = try home.listen(on: address, reusePort: all.count > 1)
        for w in all.dropFirst() { _ = try w.listen(on: bound, reusePort: true) }
        return bound
    }

    /// Seconds since start.
    var uptime: Double { Double(MonotonicClock.now() - startedAt) / 1e9 }

    /// The effective configuration, one field per key of the key table, at start and after each reload.
    private func logStartup() {
        var metadata = configuration.startupLogMetadata
        metadata["version"] = "\(berthVersion)"
        logger.info("berth started", metadata: metadata)
    }

    /// Called by the signal watches: the signal number comes from which watch fired.
    private func handleSignal(_ sig: CInt) {
        switch sig {
        case SIGHUP:
            queueReload()
        case SIGXCPU where exitStatus == 0:
            // Repeated each second past the soft limit: said once. The drain serves what it can before the hard
            // limit's SIGKILL; the exit is a failure, so a supervisor that restarts on one (Restart=on-failure) does.
            logger.warning("CPU time limit reached (RLIMIT_CPU soft limit): draining, then exiting with 152")
            exitStatus = 128 + SIGXCPU
            fallthrough
        default:
            guard draining == nil else { return }
            logger.info("shutting down", metadata: ["signal": "\(sig)", "drain": "\(configuration.timeouts.drain)"])
            SystemdNotify.send("STOPPING=1")
            draining = workers.count
            let drain = configuration.timeouts.drain.nanos
            let home = workers[0]
            for w in workers {
                if w.index == 0 {
                    w.beginShutdown(drain: drain) { [unowned self] in self.workerDrained() }
                } else {
                    // Unowned: the server outlives its workers' loops.
                    w.waker.post { [unowned self] in
                        w.beginShutdown(drain: drain) { home.waker.post { [unowned self] in self.workerDrained() } }
                    }
                }
            }
        }
    }

    /// One worker finished its drain (on worker 0's loop). The loops run until all have, so commands that reach
    /// every worker (/stats, /pause) still answer; then each stops, worker 0 last, and `run()` closes the admin.
    private func workerDrained() {
        guard let left = draining else { return }
        draining = left - 1
        guard left == 1 else { return }
        // Nothing is in flight any more: a `/pause?drain=` still waiting is answered now, on every worker, before
        // the loops stop (its pool's notice would come on a turn that never runs, and the orchestrator read a bare
        // FIN). On a turn of its own, never on the stack of the session whose end drained the worker: the answer
        // serves the admin commands pipelined behind it (item 31). Each worker's answers reach this loop before its
        // reply to this gather does.
        guard let admin else { return stopLoops() }
        admin.later { [unowned self] in
            admin.gather({ (worker: Worker, reply: @escaping (Bool) -> Void) in
                worker.answerDrainWaits()
                reply(true)
            }, done: { [unowned self] _ in stopLoops() })
        }
    }

    /// Stops every worker's loop, worker 0's last.
    private func stopLoops() {
        for w in workers.dropFirst() { w.waker.post { w.stop() } }
        workers[0].stop()
    }

    /// Runs one reload on the loop's next turn for every SIGHUP seen until then. libevent calls the watch once per
    /// delivery, and a burst (a config tool sending one per file it changed) ran a whole reload, every file read
    /// again, for each in a row while worker 0's connections waited (200 HUPs in 0.2 s: seconds). A reload reads
    /// the files afresh, so one that starts after a signal serves it; a signal during a reload queues the next.
    /// One that comes while the last reload's watches settle runs once they have (review17: two reloads in a row
    /// left a watch refused by worker 1 on worker 0, the frozen container's callers half held).
    private func queueReload() {
        guard !reloadQueued else { return }
        reloadQueued = true
        if !reloadSettling { postReload() }
    }

    /// The queued reload, on worker 0's next turn.
    private func postReload() {
        // Unowned: the server outlives its workers' loops (a job left when the loop stops is dropped).
        workers[0].waker.post { [unowned self] in
            reloadQueued = false
            reload()
        }
    }

    /// SIGHUP: new limits and timeouts for new decisions; connections stay. A bad file keeps the old configuration.
    private func reload() {
        guard let reloader else { return }
        do {
            var new = try reloader()
            // max-callers auto is worked out for the workers that run: a reload keeps their count (a new one needs a
            // restart), and a budget for another count left berth's own descriptors out (review 10).
            let named = new.workers
            new.workers = configuration.workers
            try resolveDescriptorBudget(&new)
            new.workers = named
            try Self.checkFreezers(new)
            var applied = new
            // The listeners were bound, and their socket files made, at start.
            applied.listen = configuration.listen
            applied.admin = configuration.admin
            applied.listenSocket = configuration.listenSocket
            applied.adminSocket = configuration.adminSocket
            applied.workers = configuration.workers
            // Checked again with the listeners in force: a file that names a loopback admin without a token, or a
            // loopback listen without allow, must not strip a listener still bound to 0.0.0.0 of its guard.
            try ConfigurationValidation.validate(applied)
            // Files are read again: a rotated CA or client certificate takes effect for the connections made from now.
            let contexts = try Self.tlsContexts(for: applied)
            if applied != new {
                logger.warning("reload: listen, admin, their socket settings and workers need a restart; other changes applied")
            }
            let watchWas = configuration.vmRestoreWatch
            configuration = applied
            let n = workers.count
            let all = workers
            reloadSettling = true
            // Each worker's refused watches come back to worker 0; once all are in, every worker takes back those
            // refused anywhere, so no upstream is watched on some workers only. A reload asked meanwhile goes after
            // the take-backs in every worker's queue. (A worker stopped by a drain never reports: no reload then.)
            let refused = GatherBox<[PoolKey]>(count: n) { [unowned self, logger] lists in
                let keys = Set(lists.joined())
                if !keys.isEmpty {
                    let names = keys.map(\.description).sorted().joined(separator: ",")
                    logger.error("reload: refused freezer watches taken back on every worker; each keeps the watch it had", metadata: ["upstreams": "\(names)"])
                }
                // Moves made everywhere let go of their old holds only now (and refused ones go back).
                for w in all {
                    let takeBack = { w.manager.takeBackWatches(keys, now: MonotonicClock.now()) }
                    if w.index == 0 { takeBack() } else { w.waker.post(takeBack) }
                }
                reloadSettling = false
                if reloadQueued { postReload() }
            }
            let home = workers[0]
            for w in workers {
                let apply = { [logger] in
                    w.settings = ProxySettings(applied, worker: w.index, of: n)
                    w.replay.resize(limit: w.settings.replayBuffer, capacity: ReplayStore.capacity(w.settings, worker: w.index, of: n))
                    w.manager.apply(ManagerSettings(applied, worker: w.index, of: n), contexts: contexts)
                    w.resolver.dns.capacity = applied.limits.maxUpstreams
                    w.resolver.dns.setInflight(w.settings.maxCallers)
                    let problems = w.manager.reconcileConfiguredWatches(now: MonotonicClock.now(), settle: false)
                    for (_, problem) in problems {
                        logger.error("reload: freezer watch not made", metadata: ["problem": "\(problem)", "worker": "\(w.index)"])
                    }
                    let keys = problems.map(\.key)
                    if w.index == 0 { refused.set(0, keys) } else { home.waker.post { refused.set(w.index, keys) } }
                }
                if w.index == 0 { apply() } else { w.waker.post(apply) }
            }
            if applied.vmRestoreWatch != watchWas { applyRestoreWatch() }
            logger.info("configuration reloaded", metadata: ["profile": "\(applied.profile)"])
            logStartup()
        } catch {
            logger.error("reload failed, keeping the running configuration", metadata: ["error": "\(error)"])
        }
    }

    /// Works out `max-callers` under the process's descriptor limit (DescriptorBudget), logging a value that does
    /// not fit under it.
    private func resolveDescriptorBudget(_ c: inout BerthConfiguration) throws {
        if let warning = try DescriptorBudget.resolve(&c, nofile: DescriptorBudget.nofile()) {
            logger.warning("descriptor limit", metadata: ["problem": "\(warning)"])
        }
    }

    /// Every configured `freezer:` names a cgroup with a freezer now, or the first that does not, as a ConfigError.
    static func checkFreezers(_ c: BerthConfiguration) throws(ConfigError) {
        for d in c.destinations {
            guard let path = d.freezer else { continue }
            do throws(FreezerError) {
                _ = try CgroupFreezer.probe(path, in: CgroupFile.system)
            } catch {
                throw ConfigError("destination \(d.match): freezer: \(error.message)")
            }
        }
    }

    /// The TLS contexts of `configuration`, every one the destinations name made now (the files were read by the
    /// loader's checks, but may have changed since) and the default one for https:// targets, so that a bad file
    /// stops the start or the reload instead of the first request.
    static func tlsContexts(for configuration: BerthConfiguration) throws -> TLSContexts {
        let contexts = TLSContexts()
        var all = [TLSSettings()]
        for d in configuration.destinations { if case .on(let s) = d.tls { all.append(s) } }
        for settings in all {
            do {
                _ = try contexts.context(for: settings)
            } catch {
                throw ConfigError("tls: \(error)")
            }
        }
        return contexts
    }

    static func address(_ l: ListenAddress) throws -> SocketAddress {
        switch l {
        case .unix(let path):
            // The configuration checked the path; this only fails for a hand-built one.
            guard let a = SocketAddress(unixPath: path) else {
                throw SocketError(call: "listen address \(l)", errno: ENAMETOOLONG, explanation: "not a Unix socket path the kernel takes")
            }
            return a
        case .tcp(let host, let port):
            guard let a = SocketAddress(numericHost: host == "localhost" ? "127.0.0.1" : host, port: port) else {
                throw SocketError(call: "listen address \(l) (use a numeric IP)", errno: EINVAL)
            }
            return a
        }
    }

    /// The socket file settings as the listener applies them.
    static func permissions(_ s: UnixSocketSettings) -> UnixSocketPermissions {
        UnixSocketPermissions(mode: s.mode, uid: s.owner?.uid, gid: s.owner?.gid)
    }
}

/// Carries a non-Sendable worker to the thread that will own it from then on.
final class UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
