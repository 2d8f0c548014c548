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
    private var workers: [Worker] = []
    private var admin: AdminServer?
    private var signals: [SignalWatch] = []
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
        let n = configuration.workers
        let all = (0..<n).map { Worker(index: $0, of: n, configuration: configuration, logger: logger) }
        workers = all
        let home = all[0]
        // Every worker has its own listening socket on the same port (SO_REUSEPORT); the kernel spreads callers.
        let proxyAddr = try home.listen(on: try Self.address(configuration.listen), reusePort: n > 1)
        for w in all.dropFirst() { _ = try w.listen(on: proxyAddr, reusePort: true) }
        let a = try AdminServer(base: home.base, address: try Self.address(configuration.admin), server: self, worker: home, workers: all)
        admin = a
        for sig in [SIGTERM, SIGINT, SIGHUP] {
            // Unowned: the server frees its signal watches before it goes.
            signals.append(SignalWatch(base: home.base, signal: sig) { [unowned self] in self.handleSignal(sig) })
        }
        let line = "berth listening proxy=\(proxyAddr) admin=\(a.address)\n"
        // write(2) on fd 1, not stdio: scripts read this line at once even when stdout is a pipe or a file.
        _ = line.withCString { Glibc.write(1, $0, strlen($0)) }
        logStartup()
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
        admin?.close()
        for s in signals { s.free() }
        signals.removeAll()
        for w in all { w.teardown() }
        workers = []
        return 0
    }

    /// Seconds since start.
    var uptime: Double { Double(MonotonicClock.now() - startedAt) / 1e9 }

    private func logStartup() {
        let c = configuration
        logger.info("berth started", metadata: [
            "version": "\(berthVersion)",
            "profile": "\(c.profile)",
            "listen": "\(c.listen)", "admin": "\(c.admin)",
            "connect_timeout": "\(DurationSyntax.format(c.timeouts.connect))", "socket_timeout": "\(DurationSyntax.format(c.timeouts.socket))",
            "acquire_timeout": "\(DurationSyntax.format(c.timeouts.acquire))", "idle_timeout": "\(DurationSyntax.format(c.timeouts.idle))",
            "max_connection_age": "\(DurationSyntax.format(c.timeouts.maxConnectionAge))", "header_timeout": "\(DurationSyntax.format(c.timeouts.headerRead))",
            "caller_idle_timeout": "\(DurationSyntax.format(c.timeouts.callerIdle))", "drain_timeout": "\(DurationSyntax.format(c.timeouts.drain))",
            "socket_timeout_ceiling": "\(DurationSyntax.format(c.timeouts.socketCeiling))",
            "max_total": "\(c.limits.maxTotal)", "max_per_route": "\(c.limits.maxPerRoute)",
            "max_pending": "\(c.limits.maxPending)", "max_requests_per_connection": "\(c.limits.maxRequestsPerConnection)",
            "workers": "\(c.workers)", "allow": "\(c.allow.map(\.description).joined(separator: ","))",
            "connect_ports": "\(c.connectPorts.map(String.init).joined(separator: ","))",
        ])
    }

    /// Called by the signal watches: the signal number comes from which watch fired.
    private func handleSignal(_ sig: CInt) {
        switch sig {
        case SIGHUP:
            reload()
        default:
            logger.info("shutting down", metadata: ["signal": "\(sig)", "drain": "\(configuration.timeouts.drain)"])
            admin?.close()
            admin = nil
            let drain = configuration.timeouts.drain.nanos
            for w in workers {
                if w.index == 0 { w.beginShutdown(drain: drain) } else { w.waker.post { w.beginShutdown(drain: drain) } }
            }
        }
    }

    /// SIGHUP: new limits and timeouts for new decisions; connections stay. A bad file keeps the old configuration.
    private func reload() {
        guard let reloader else { return }
        do {
            let new = try reloader()
            if new.listen != configuration.listen || new.admin != configuration.admin || new.workers != configuration.workers {
                logger.warning("reload: listen, admin and workers need a restart; other changes applied")
            }
            var applied = new
            applied.listen = configuration.listen
            applied.admin = configuration.admin
            applied.workers = configuration.workers
            configuration = applied
            let n = workers.count
            for w in workers {
                let apply = {
                    w.settings = ProxySettings(applied)
                    w.manager.apply(ManagerSettings(applied, worker: w.index, of: n))
                }
                if w.index == 0 { apply() } else { w.waker.post(apply) }
            }
            logger.info("configuration reloaded", metadata: ["profile": "\(applied.profile)"])
            logStartup()
        } catch {
            logger.error("reload failed, keeping the running configuration", metadata: ["error": "\(error)"])
        }
    }

    static func address(_ l: ListenAddress) throws -> SocketAddress {
        let host = l.host == "localhost" ? "127.0.0.1" : l.host
        guard let a = SocketAddress(numericHost: host, port: l.port) else {
            throw SocketError(call: "listen address \(l) (use a numeric IP)", errno: EINVAL)
        }
        return a
    }
}

/// Carries a non-Sendable worker to the thread that will own it from then on.
final class UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
