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
        let contexts = try Self.tlsContexts(for: configuration)
        let all = (0..<n).map { Worker(index: $0, of: n, configuration: configuration, logger: logger, contexts: contexts) }
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
            // Files are read again: a rotated CA or client certificate takes effect for the connections made from now.
            let contexts = try Self.tlsContexts(for: applied)
            configuration = applied
            let n = workers.count
            for w in workers {
                let apply = {
                    w.settings = ProxySettings(applied)
                    w.manager.apply(ManagerSettings(applied, worker: w.index, of: n), contexts: contexts)
                }
                if w.index == 0 { apply() } else { w.waker.post(apply) }
            }
            logger.info("configuration reloaded", metadata: ["profile": "\(applied.profile)"])
            logStartup()
        } catch {
            logger.error("reload failed, keeping the running configuration", metadata: ["error": "\(error)"])
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
