// Opens connections ahead of demand after /resume?prewarm=N, so the first requests after a thaw skip the connect.
import Glibc
import EventLoop

/// One connection being opened ahead of demand.
final class Prewarmer: ChannelDelegate {
    private let pool: UpstreamPool
    private unowned let worker: Worker
    private var channel: Channel?
    /// The epoch when the connect started.
    private let epoch: UInt64

    private init(pool: UpstreamPool, worker: Worker) {
        self.pool = pool
        self.worker = worker
        self.epoch = pool.state.epoch
    }

    /// Starts up to `count` connects within the limits; returns how many started.
    static func start(count: Int, pool: UpstreamPool, worker: Worker) -> Int {
        var started = 0
        for _ in 0..<count {
            guard worker.manager.reservePrewarm(pool) else { break }
            let p = Prewarmer(pool: pool, worker: worker)
            worker.prewarmers[ObjectIdentifier(p)] = p
            p.resolve()
            started += 1
        }
        return started
    }

    private func resolve() {
        worker.resolver.resolve(pool.key.bareHost, port: pool.key.port, now: MonotonicClock.now()) { [self] addrs in
            self.connect(addrs.first)
        }
    }

    private func connect(_ address: SocketAddress?) {
        guard let address else { return fail() }
        switch Channel.connect(base: worker.base, to: address, timeout: pool.settings.connectTimeout, delegate: self) {
        case .failed:
            fail()
        case .inProgress(let ch):
            channel = ch
        case .connected(let ch):
            channel = ch
            channelWritable(ch)
        }
    }

    private func fail() {
        if let ch = channel {
            channel = nil
            ch.close()
        }
        worker.manager.connectFailed(pool)
        done()
    }

    private func done() { worker.prewarmers[ObjectIdentifier(self)] = nil }

    func channelWritable(_ ch: Channel) {
        ch.clearTimeout()
        guard Socket.pendingError(ch.fd) == 0 else { return fail() }
        channel = nil
        worker.manager.prewarmed(pool, channel: ch, epoch: epoch, now: MonotonicClock.now())
        done()
    }

    func channelReadable(_ ch: Channel) {}

    func channelTimedOut(_ ch: Channel) { fail() }
}
