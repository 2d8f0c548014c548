// A channel's output: heads and short bodies in a block of its own (`front`), anything else in an evbuffer behind it.
import Glibc
internal import CLibevent

/// The output is two queues in order: `front`, a ByteBlock that heads are serialised into and short bodies copied
/// into, then the evbuffer `output` for what must not be copied (whole blocks, admin answers by reference, a replay
/// copy) and for writes that come while the evbuffer holds bytes. Fast because the common exchange, a head and a
/// short body each way, touches no evbuffer: no reserve/commit, peek, drain or get_length call (~1,000 instructions
/// per request), and leaves with one plain send. `outputSpilled` says the evbuffer may hold bytes; once it does,
/// every write goes there until a flush empties it, so order holds. A TLS channel keeps it set: its output is all
/// in the evbuffer, as OpenSSL's record writer reads it (Channel+TLS.swift).
extension Channel {
    /// Bytes waiting to be sent (on TLS, plaintext not yet sealed and sealed records the kernel had no room for).
    @inline(__always)
    package var pendingOutput: Int {
        outputSpilled ? front.count &+ evbuffer_get_length(output) &+ tlsBacklog : front.count
    }

    /// Appends raw bytes to the output; nothing once closed.
    @inline(__always)
    package func write(_ bytes: UnsafeRawBufferPointer) {
        guard !closed else { return }
        append(bytes)
    }

    /// Appends a copy of `bytes`: into `front` while nothing is behind it and it has room, else to the evbuffer.
    @inline(__always)
    func append(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        if !outputSpilled, let p = front.tail(atLeast: bytes.count, from: blocks) {
            p.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
            front.commit(bytes.count)
            return
        }
        outputSpilled = true
        evbuffer_add(output, bytes.baseAddress, bytes.count)
    }

    /// Takes all of `block`'s bytes as output without copying them: as `front` itself when the output is empty, by
    /// reference behind other output when the run is long (`ByteBlock.handOverBytes`). False when it did neither
    /// (the bytes are for the caller to copy). `block` is left empty when true.
    @inline(__always)
    func takeOutput(_ block: inout ByteBlock) -> Bool {
        if front.base == nil && !outputSpilled {
            front = block
            block.forget()
            return true
        }
        return block.count >= ByteBlock.handOverBytes && takeOutputByReference(&block)
    }

    @inline(never)
    private func takeOutputByReference(_ block: inout ByteBlock) -> Bool {
        guard let base = block.base,
              berth_evbuffer_add_block(output, base + block.start, block.count, base) == 0 else { return false }
        outputSpilled = true
        block.forget()
        return true
    }

    /// Lets `serialize` write straight into the output's free space: it asks the closure it is given for as many bytes
    /// as it may need, writes, and returns how many it wrote, which are kept. One copy fewer than building the bytes
    /// elsewhere and adding them (forwarded heads are written this way), and into `front` no libevent call. False
    /// when nothing was written: the channel is closed, or there was no memory; a head that is not there must not be
    /// followed by its body.
    @inline(__always)
    @discardableResult
    package func writeInPlace(_ serialize: (_ reserve: (Int) -> UnsafeMutableRawPointer?) -> Int) -> Bool {
        guard !closed else { return false }
        var vec = iovec()  // evbuffer_iovec is a macro for struct iovec on Unix
        var inFront = false
        let n = serialize { bound in
            if !self.outputSpilled, let p = self.front.tail(atLeast: bound, from: self.blocks) {
                inFront = true
                return p
            }
            return evbuffer_reserve_space(self.output, bound, &vec, 1) == 1 ? vec.iov_base : nil
        }
        if inFront {
            front.commit(n)
            front.readNothing(to: blocks)
            return n > 0
        }
        guard n > 0 else { return false }
        vec.iov_len = n
        outputSpilled = true
        return evbuffer_commit_space(output, &vec, 1) == 0
    }

    /// Appends a byte array to the output.
    package func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { write($0) }
    }

    /// Appends `bytes` to the output without copying them: libevent sends from their own memory and releases the
    /// retain taken here when done. For multi-megabyte admin answers (/stats, /metrics), where a copy and its page
    /// faults cost more than building the document.
    package func writeOwned(_ bytes: OwnedBytes) {
        guard !closed, bytes.count > 0 else { return }
        let extra = Unmanaged.passRetained(bytes).toOpaque()
        outputSpilled = true
        if evbuffer_add_reference(output, bytes.base, bytes.count, ownedBytesCleanup, extra) != 0 {
            Unmanaged<OwnedBytes>.fromOpaque(extra).release()
            write(UnsafeRawBufferPointer(start: bytes.base, count: bytes.count))
        }
    }

    /// Appends a string's UTF-8 to the output.
    package func write(_ text: String) {
        var t = text
        t.withUTF8 { write(UnsafeRawBufferPointer($0)) }
    }

    /// Writes as much of the output as the kernel takes; arms EV_WRITE for the rest. False when the socket failed.
    /// `front` leaves with a plain send, or with the evbuffer's first chains in one sendmsg when both hold bytes.
    @discardableResult
    package func flush() -> Bool {
        if closed { return false }
        if writeError != 0 { return false }
        if _slowPath(tls != nil) { return tlsFlush() }
        while let chunk = front.chunk {
            let n = outputSpilled ? berth_send_front_and_buffer(fd, chunk.baseAddress, chunk.count, output)
                                  : berth_send(fd, chunk.baseAddress, chunk.count)
            guard n > 0 else {
                if let stop = sendStopped(n) { return stop }
                continue
            }
            sentToKernel &+= UInt64(n)
            if n < chunk.count {
                front.drain(n, to: blocks)
            } else {
                front.release(to: blocks)
                if n > chunk.count { evbuffer_drain(output, n - chunk.count) }
            }
        }
        guard outputSpilled else { return true }
        while evbuffer_get_length(output) > 0 {
            let n = berth_evbuffer_send_fd(output, fd)
            guard n > 0 else {
                if let stop = sendStopped(n) { return stop }
                continue
            }
            sentToKernel &+= UInt64(n)
        }
        outputSpilled = false
        return true
    }

    /// A send that took nothing: nil to try again (EINTR), true when the kernel pushed back (EV_WRITE armed), false
    /// when the socket failed (`writeError` set).
    @inline(never)
    private func sendStopped(_ n: Int) -> Bool? {
        let e = berth_errno()
        if n < 0 && (e == EAGAIN || e == EWOULDBLOCK) {
            writeEvent.add()
            return true
        }
        if n < 0 && e == EINTR { return nil }
        writeFailed(n == 0 ? EPIPE : e)
        return false
    }

    /// Drops every byte of output (the channel is being released; a TLS BIO's queue went with its connection).
    func discardOutput() {
        front.release(to: blocks)
        evbuffer_drain(output, evbuffer_get_length(output))
        tlsBacklog = 0
    }
}
