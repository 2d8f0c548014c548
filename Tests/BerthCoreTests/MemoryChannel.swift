// An in-memory channel (swift-nio's EmbeddedChannel in spirit) that the relay driver runs over in tests, with no socket or loop.
import HTTP1
import EventLoop
@testable import BerthCore

/// Input the test hands in, output the relay queues, and the "wire": what flushes sent. Flushes may be limited (a
/// full socket), and input may be split into runs of at most `maxRun` bytes (evbuffer chains), so every split
/// and every backpressure edge can be driven deterministically.
final class MemoryChannel: RelayChannel {
    private var input: [UInt8] = []
    /// Where `inputChunk()` pointed last; kept alive until the input changes, as an evbuffer's chain is.
    private var chunkStore: UnsafeMutableRawBufferPointer?
    private(set) var output: [UInt8] = []
    /// Every byte a flush sent, in order.
    private(set) var wire: [UInt8] = []
    private(set) var reading = false
    /// The timer: nil when cleared.
    private(set) var deadline: Nanos?
    /// Bytes one flush may send; nil for no limit.
    var flushLimit: Int?
    /// A flush fails (the peer reset).
    var failFlush = false
    /// The longest contiguous run `inputChunk()` returns.
    var maxRun = Int.max
    /// How many flushes were asked for.
    private(set) var flushes = 0

    deinit { chunkStore?.deallocate() }

    /// The peer sent `bytes`: they are buffered as a read would leave them.
    func receive(_ bytes: [UInt8]) {
        invalidateChunk()
        input += bytes
    }

    var pendingInput: Int { input.count }
    var pendingOutput: Int { output.count }

    func inputChunk() -> UnsafeRawBufferPointer? {
        guard !input.isEmpty else { return nil }
        invalidateChunk()
        let n = min(input.count, maxRun)
        let store = UnsafeMutableRawBufferPointer.allocate(byteCount: n, alignment: 1)
        input.withUnsafeBytes { store.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        chunkStore = store
        return UnsafeRawBufferPointer(store)
    }

    func inputPulledUp() -> UnsafeRawBufferPointer? {
        guard !input.isEmpty else { return nil }
        invalidateChunk()
        let store = UnsafeMutableRawBufferPointer.allocate(byteCount: input.count, alignment: 1)
        input.withUnsafeBytes { store.copyMemory(from: $0) }
        chunkStore = store
        return UnsafeRawBufferPointer(store)
    }

    func drainInput(_ n: Int) {
        precondition(n <= input.count, "drained \(n) of \(input.count) buffered bytes")
        invalidateChunk()
        input.removeFirst(n)
    }

    func moveInput(_ n: Int, to other: MemoryChannel) {
        precondition(n <= input.count, "moved \(n) of \(input.count) buffered bytes")
        other.output += input[0..<n]
        drainInput(n)
    }

    func copyInput(_ n: Int, to queue: ByteQueue) -> Bool {
        input.withUnsafeBytes { queue.append(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
    }

    func write(_ bytes: UnsafeRawBufferPointer) { output += bytes }

    func writeInPlace(_ serialize: (_ reserve: (Int) -> UnsafeMutableRawPointer?) -> Int) -> Bool {
        var space: UnsafeMutableRawBufferPointer?
        defer { space?.deallocate() }
        let n = serialize { bound in
            space = UnsafeMutableRawBufferPointer.allocate(byteCount: bound, alignment: 1)
            return space?.baseAddress
        }
        guard n > 0, let space else { return false }
        output += UnsafeRawBufferPointer(rebasing: space[0..<n])
        return true
    }

    func flush() -> Bool {
        flushes += 1
        if failFlush { return false }
        let n = min(output.count, flushLimit ?? output.count)
        wire += output[0..<n]
        output.removeFirst(n)
        return true
    }

    func startReading() { reading = true }
    func stopReading() { reading = false }
    func setTimeout(_ nanos: Nanos, now: Nanos) { deadline = now + nanos }
    func clearTimeout() { deadline = nil }

    private func invalidateChunk() {
        chunkStore?.deallocate()
        chunkStore = nil
    }
}

/// The session's side of the relay in tests: fixed rules, no pool, a small replay store.
final class MemoryRelayHost: RelayHost {
    var highWater = 64 * 1024
    var maxPipelinedInput = 16 * 1024
    var limits = HTTP1Limits.default
    var shuttingDown = false
    var callerIdleTimeout: Nanos = 5_000_000_000
    var now: Nanos = 1_000
    var responseHeadTimeout: Nanos = 10_000_000_000
    var stepsPerEvent = 64
    var forwardOptions = ForwardOptions()
    var keepAliveTail: UInt64 = 0
    let replay = ReplayStore(limit: 4096, capacity: 2)
}

/// One exchange relayed between two in-memory channels by the production driver, the way ProxySession runs it.
struct MemoryRelay {
    let caller = MemoryChannel()
    let upstream = MemoryChannel()
    let host = MemoryRelayHost()
    var exchange = Exchange()
    var parser = ResponseHeadParser()
    /// Every outcome the driver returned, in order.
    private(set) var outcomes: [RelayOutcome] = []

    /// Starts an exchange for `head` (a whole request head) as `send(on:)` does, with the caller read, reused or not.
    init(request head: String, reused: Bool = true) {
        var p = RequestHeadParser()
        let bytes = Array(head.utf8)
        let done = bytes.withUnsafeBytes { try? p.parse($0) }
        guard case .complete(let n)? = done, n == bytes.count else { preconditionFailure("not one whole head: \(head)") }
        p.takeHead(into: &exchange.request)
        exchange.requestBody = Body(exchange.request.framing, limits: .default)
        exchange.callerKeepAlive = exchange.request.keepAlive
        exchange.socketTimeout = 2_000_000_000
        exchange.reused = reused
        exchange.upstreamUnflushed = true
        caller.startReading()
        // A pooled connection is read while idle (a server's close is seen at once), and stays read when leased.
        if reused { upstream.startReading() }
    }

    /// Runs the driver once; a yielded turn is run again (as the loop's next turn would), up to `turns` times.
    @discardableResult
    mutating func run(from first: RelayStep? = nil, turns: Int = 1_000) -> RelayOutcome {
        var outcome = RelayDriver.run(&exchange, parser: &parser, caller: caller, upstream: upstream, host: host, from: first)
        outcomes.append(outcome)
        var left = turns
        while outcome == .yielded && left > 0 {
            left -= 1
            outcome = RelayDriver.run(&exchange, parser: &parser, caller: caller, upstream: upstream, host: host)
            outcomes.append(outcome)
        }
        return outcome
    }

    /// The caller sends `bytes`, and the relay runs.
    @discardableResult
    mutating func callerSends(_ bytes: [UInt8]) -> RelayOutcome {
        caller.receive(bytes)
        return run()
    }

    /// The upstream sends `bytes` (a read counts them, as upstreamReadable does), and the relay runs.
    @discardableResult
    mutating func upstreamSends(_ bytes: [UInt8]) -> RelayOutcome {
        upstream.receive(bytes)
        exchange.responseBytes += UInt64(bytes.count)
        return run()
    }

    /// The upstream closed (`clean`: a FIN, with close_notify over TLS) or reset the connection.
    @discardableResult
    mutating func upstreamEnds(clean: Bool = true) -> RelayOutcome {
        run(from: exchange.upstreamEnded(policy: .idempotent, clean: clean))
    }

    /// What went to the caller after the response head: sent, or queued for the caller's write event to send.
    var callerBody: [UInt8] {
        let w = caller.wire + caller.output
        guard w.count >= 4, let end = (3..<w.count).first(where: { w[$0 - 3] == 13 && w[$0 - 2] == 10 && w[$0 - 1] == 13 && w[$0] == 10 }) else { return [] }
        return Array(w[(end + 1)...])
    }

    /// What reached the caller, as text.
    var callerText: String { String(decoding: caller.wire, as: UTF8.self) }
}
