// One non-blocking socket with its input and output evbuffers: a persistent EV_READ, EV_WRITE only after EAGAIN, one timer; plain or TLS.
import Glibc
internal import CLibevent

/// What a channel's owner hears.
package protocol ChannelDelegate: AnyObject {
    /// The socket is readable (data, EOF or error: call `read()` to learn which).
    func channelReadable(_ channel: Channel)
    /// Output that was held back by EAGAIN is now fully written, or the socket failed (`writeFailed`).
    func channelWritable(_ channel: Channel)
    /// The channel's deadline passed.
    func channelTimedOut(_ channel: Channel)
    /// Output held back by EAGAIN partly left: the peer is taking bytes, slowly. Only owners whose timeout measures
    /// silence need it (the session's socket timeout); the rest keep the default, which does nothing.
    func channelWriteProgress(_ channel: Channel)
}

extension ChannelDelegate {
    /// Nothing: most owners wait for the whole output to leave (`channelWritable`).
    package func channelWriteProgress(_ channel: Channel) {}
}

/// Outcome of one read(2).
package enum ReadOutcome: Equatable {
    case data(Int)
    case wouldBlock
    case eof
    case failed(Int32)
}

/// A socket plus buffers, with the syscall discipline the performance target needs: one read per readable event, writes at once, EV_WRITE only when the kernel pushed back.
package final class Channel: EventHandler {
    package let fd: CInt
    /// The loop's queue of yielded connections (`yieldRead`).
    private let yields: YieldQueue
    /// The loop's passes, for `wentIdleThisPass` (not the `EventBase`, whose retain and release would cost more).
    private let pass: LoopPass
    /// The loop pass in which an owner last parked the channel (`noteIdle`).
    private var idlePass = -1
    /// Bytes read and not yet consumed (Channel+Input.swift).
    var input = ByteBlock()
    /// Bytes to send behind `front` (Channel+Output.swift).
    let output: OpaquePointer
    /// The output's first bytes: heads and short bodies, sent before anything in `output`.
    var front = ByteBlock()
    /// Whether `output` may hold bytes: then every write goes behind them there. Always set on a TLS channel.
    var outputSpilled = false
    /// Ciphertext of `output` the kernel had no room for, queued in the TLS BIO (0 on a plain channel): still output.
    var tlsBacklog = 0
    /// Where the input's and front's blocks come from and go back to: the loop's spares.
    let blocks: BlockPool
    /// Unowned: every owner closes or hands over its channels before it goes, and a weak reference would put a side
    /// table on each session and connection, sending all their retains and releases down the slow path.
    package unowned(unsafe) var delegate: ChannelDelegate?

    var readEvent: LoopEvent!
    var writeEvent: LoopEvent!
    var timerEvent: LoopEvent!
    package private(set) var reading = false
    package private(set) var closed = false
    /// Whether a `yieldRead` waits in the loop's `YieldQueue`, which runs it only while this is still set.
    var yieldPending = false
    /// Set once the sending side was shut (`shutdownWrite`): nothing more may be written.
    package private(set) var writeShut = false
    /// Set when a write failed (`writeFailed`); the owner decides what that means.
    package private(set) var writeError: Int32 = 0
    /// Set once the connection's end showed: a read returned the peer's end, or a write failed (the peer reset the
    /// connection). Its owner may still be using bytes read before it (a yielded relay's, or an answer the peer sent
    /// ahead of its reset, which a read still returns), but the connection must never be reused.
    package private(set) var endSeen = false
    /// Set when a read failed (a reset, most often): an end, and never an orderly one (`endedCleanly`), whatever a
    /// later read returns (after a reset is reported once, reads return 0 as at a FIN).
    package private(set) var readError: Int32 = 0
    /// The transport, chosen when the channel is made: nil is the plain socket, and every method tests it first
    /// with the plain branch in line, so a plain connection pays one compare per call for TLS existing
    /// (Channel+TLS.swift holds the other branch).
    var tls: TLSConnection?

    /// Takes ownership of `fd`.
    package init(base: EventBase, fd: CInt) {
        self.fd = fd
        self.output = evbuffer_new()
        self.blocks = base.blocks
        self.yields = base.yields
        self.pass = base.pass
        self.readEvent = LoopEvent(base: base, fd: fd, flags: Int16(EV_READ | EV_PERSIST), handler: self, tag: .read)
        self.writeEvent = LoopEvent(base: base, fd: fd, flags: Int16(EV_WRITE), handler: self, tag: .write)
        self.timerEvent = LoopEvent(timerOn: base, handler: self, tag: .timer)
    }

    /// Urgent reads run before every other event of the same loop turn. Idle pooled connections are urgent: when an
    /// idle connection's FIN and a caller's request arrive together, the dead connection must leave the pool before the
    /// request checks it out. Only idle ones: an idle connection fires once and closes, so it can starve nothing.
    package func setUrgentReads(_ urgent: Bool) {
        readEvent.setPriority(urgent ? 0 : 1)
    }

    /// Watches for readability (idempotent: no epoll_ctl when already watching).
    @inline(__always)
    package func startReading() {
        guard !reading, !closed else { return }
        reading = true
        readEvent.add()
        if _slowPath(tls != nil) { tlsResumedReading() }
    }

    /// Delivers one readable event on the next loop turn whatever the socket holds: an owner that stopped with
    /// buffered input (a budget spent) picks it up there.
    package func scheduleRead() {
        guard !closed else { return }
        readEvent.activate()
    }

    /// Delivers one readable event after the loop's next poll, behind the connections that poll finds ready: how an
    /// owner that spent its budget of a turn yields (`YieldQueue`; `scheduleRead` would run it again in this pass).
    package func yieldRead() {
        guard !closed, !yieldPending else { return }
        yieldPending = true
        yields.add(self)
    }

    /// Drops a yield not run yet: the turn it would continue is over, and the channel's new owner must not take the
    /// readable event it delivers for news from the socket (an idle pooled connection reads any as its peer's end).
    package func cancelYield() {
        yieldPending = false
    }

    /// Stops watching for readability, for backpressure or while nothing may be read.
    @inline(__always)
    package func stopReading() {
        guard reading else { return }
        reading = false
        readEvent.remove()
    }

    /// Bytes the next read asks for: small for heads, doubling while reads fill it (bodies), halving when they don't.
    /// Each is a size class of the chain-block cache (4 KiB to 256 KiB), which the input's block comes from.
    var readShift = Channel.minReadShift
    private static let minReadShift = 12
    private static let maxReadShift = 18

    /// One recv(2) straight into the input block's free space: no ioctl(FIONREAD) and no evbuffer call (evbuffer_read
    /// makes both), and recv rather than read skips the VFS layers (about a fifth of read's kernel time here).
    package func read() -> ReadOutcome {
        guard !closed else { return .failed(EBADF) }
        let want = 1 << readShift
        if _slowPath(tls != nil) {
            let outcome = tlsRead(want: want)
            if outcome == .eof {
                endSeen = true
            } else if case .failed(let e) = outcome {
                readFailed(e)
            }
            return outcome
        }
        guard let room = input.room(for: want, from: blocks) else {
            // No block for the bytes: an end too, and not an orderly one (what the peer sent next is unread).
            readFailed(ENOMEM)
            return .failed(ENOMEM)
        }
        let n = Glibc.recv(fd, room.baseAddress, room.count, 0)
        if n > 0 {
            input.commit(n)
            adaptReadSize(read: n, want: room.count)
            return .data(n)
        }
        input.readNothing(to: blocks)
        if n == 0 {
            endSeen = true
            return .eof
        }
        let e = berth_errno()
        if e == EAGAIN || e == EWOULDBLOCK || e == EINTR { return .wouldBlock }
        readFailed(e)
        return .failed(e)
    }

    /// A read failed with `error`: the connection's end, not an orderly one. Out of line: the read's rare path.
    @inline(never)
    func readFailed(_ error: Int32) {
        if readError == 0 { readError = error }
        endSeen = true
    }

    /// Grows the next read while reads fill it and shrinks it when they come back far from full.
    @inline(__always)
    func adaptReadSize(read n: Int, want: Int) {
        lastReadFilled = n == want
        if lastReadFilled && readShift < Channel.maxReadShift {
            readShift += 1
        } else if n < want >> 3 && readShift > Channel.minReadShift {
            readShift -= 1
        }
    }

    /// The last read filled all the room it asked for, so the socket may hold more than was read (a message that
    /// ended there may have bytes behind it in the kernel); on TLS also when it stopped inside a record.
    package private(set) var lastReadFilled = false

    /// A TLS read stopped with part of a record inside OpenSSL: bytes behind the data read, as after a full read.
    func readStoppedInsideRecord() { lastReadFilled = true }

    /// The channel is parked (a pooled connection going idle): stamped with the loop's pass, so that a checkout in
    /// the same pass knows the loop has not polled its socket since (`wentIdleThisPass`).
    package func noteIdle() { idlePass = pass.count }

    /// Parked in this loop pass: the loop has not polled the socket since, so a FIN or bytes that came behind the
    /// last message (in one segment with it) are there unseen, and the idle watch has not had its chance. A posted
    /// turn belongs to the pass that posted it (`LoopPass`).
    package var wentIdleThisPass: Bool { pass.isCurrent(idlePass) }

    /// One more read finds the peer's end or bytes (or a failure): a parked connection that must not be reused.
    package func endsBehindLastRead() -> Bool { holdsMoreThanRead() || endSeen }

    /// Whether the peer sent bytes beyond what was read (or the socket failed): one more read, for an owner about to
    /// reuse the connection after a message that ended exactly where a full read did (`lastReadFilled`). Bytes it
    /// finds stay in the input; an end it finds sets `endSeen` (and is no bytes). Rare: small messages never fill a
    /// read. On TLS, part of a record still held counts: its rest would answer the next request.
    package func holdsMoreThanRead() -> Bool {
        switch read() {
        case .wouldBlock: return tlsHoldsPartialRecord
        case .eof: return false
        case .data, .failed: return true
        }
    }

    /// A write failed with `error`: nothing more can be sent, and the connection is over (`endSeen`). Its owner
    /// learns the rest from the read side (an answer the peer sent ahead of a reset is still read), so a TLS channel,
    /// whose failure may leave the socket open with nothing more to read (a protocol error), gets a read event that
    /// shows it.
    func writeFailed(_ error: Int32) {
        writeError = error
        endSeen = true
        if _slowPath(tls != nil) { scheduleRead() }
    }

    /// Bytes a plain channel handed to the kernel over its life: one add per send, so that the rare dead-peer look
    /// can tell the bytes of the current request from those the peer acknowledged before it.
    var sentToKernel: UInt64 = 0

    /// Bytes waiting in `input`.
    @inline(__always)
    package var pendingInput: Int { input.count }

    /// How a non-blocking connect started.
    package enum ConnectStart {
        /// The outcome arrives as `channelWritable` (or `channelTimedOut` after `timeout`).
        case inProgress(Channel)
        /// Connected at once (loopback can): the caller carries on directly.
        case connected(Channel)
        /// Failed at once with this errno.
        case failed(Int32)
    }

    /// Starts a non-blocking connect to `address` whose outcome `delegate` hears; the one connect path for pooled,
    /// tunnel and prewarmed connections. With `tls`, the channel is a TLS one from the start, and its owner runs
    /// `handshake()` once connected.
    package static func connect(base: EventBase, to address: SocketAddress, timeout: Nanos, delegate: ChannelDelegate,
                                tls: TLSClientSetup? = nil) -> ConnectStart {
        let (fd, inProgress, err) = Socket.connect(to: address)
        guard fd >= 0 else { return .failed(err) }
        let ch = Channel(base: base, fd: fd)
        if let tls {
            guard let connection = TLSConnection(tls, fd: fd) else {
                ch.close()
                return .failed(ENOMEM)
            }
            ch.tls = connection
            ch.outputSpilled = true
        }
        ch.delegate = delegate
        guard inProgress else { return .connected(ch) }
        ch.writeEvent.add()
        ch.setTimeout(timeout)
        return .inProgress(ch)
    }

    /// The channel's one deadline (see LazyDeadline for the rules; Channel+Timer.swift for its firing).
    var deadline = LazyDeadline()
    /// The deadline a timeout that found the loop late was put off to: not put off again (Channel+Timer.swift).
    var putOffTo: Nanos = 0

    /// Sets the single deadline to `nanos` after `now`, replacing any earlier one. Hot paths pass their event's
    /// time (Worker.now) rather than read the clock again.
    package func setTimeout(_ nanos: Nanos, now: Nanos = MonotonicClock.now()) {
        if case .arm(let after) = deadline.set(nanos, now: now) { timerEvent.add(after: after) }
    }

    /// Drops the deadline; the armed timer, if any, fires once more and is ignored.
    @inline(__always)
    package func clearTimeout() { deadline.clear() }

    /// Half-closes: the peer reads end of stream (FIN, after a TLS close_notify), and this side keeps reading. Call it
    /// once `output` has drained (a tunnel does, from `channelWritable`): what is still buffered would be lost.
    package func shutdownWrite() {
        guard !closed, !writeShut else { return }
        writeShut = true
        if _slowPath(tls != nil) { tlsShutdownWrite() }
        Socket.shutdownWrite(fd)
    }

    /// Closes the socket and frees every C object; idempotent. `reset` sends RST instead of FIN.
    /// With `posted`, the channel leaves service now (no more callbacks) and the rest of the work, freeing its events
    /// (an epoll_ctl each) and close(2), waits for the end of the running callback.
    package func close(reset: Bool = false, via posted: PostedEvents? = nil) {
        guard !closed else { return }
        closed = true
        reading = false
        delegate = nil
        if let posted {
            posted.close(self, reset: reset)
        } else {
            release(reset: reset)
        }
    }

    /// The second half of `close`: frees the C events and closes the socket. `PostedEvents` calls it after the
    /// admin answer for channels closed through it.
    func release(reset: Bool) {
        readEvent.free()
        writeEvent.free()
        timerEvent.free()
        if let tls {
            // close_notify on a clean close, as nginx sends one; never on a reset or after a failure.
            if !reset && tls.handshakeDone && writeError == 0 && !writeShut { tls.shutdown() }
            tls.free()
            self.tls = nil
        }
        if reset { Socket.setLingerReset(fd) }
        Glibc.close(fd)
        // The buffers outlive the socket until the object goes: code unwinding from the callback that closed the
        // channel may still touch them, and freeing them here turned that into a use-after-free (found by fuzzing).
        input.release(to: blocks)
        discardOutput()
    }

    package func handleEvent(_ tag: EventTag, what: Int16) {
        // A strong reference for the length of the call: the delegate may drop its last other owner while handling
        // the event (a session closing itself), and the unowned(unsafe) field alone would not keep it alive.
        guard let owner = delegate else { return }
        switch tag {
        case .read:
            if _slowPath(tls != nil), tlsReadEvent(owner) { return }
            owner.channelReadable(self)
        case .write:
            if _slowPath(tls != nil) { return tlsWriteEvent(owner) }
            let before = pendingOutput
            if flush() {
                let left = pendingOutput
                if left == 0 { owner.channelWritable(self) } else if left < before { owner.channelWriteProgress(self) }
            } else {
                owner.channelWritable(self)
            }
        case .timer:
            timerFired()
        default:
            break
        }
    }

    deinit {
        if !closed { close() }
        input.release(to: blocks)
        front.release(to: blocks)
        evbuffer_free(output)
    }
}
