// A channel's TLS branch: the handshake step by step, and reads and writes through OpenSSL on the channel's own events.
import Glibc
internal import CLibevent
internal import COpenSSL

extension Channel {
    /// Whether the channel speaks TLS.
    package var isTLS: Bool { tls != nil }

    /// Whether the EOF `read()` reported was an orderly close: on a plain socket unless a write or a read failed
    /// first (the peer reset the connection, and the EOF is what a read returns after the reset); over TLS only after
    /// the peer's close_notify (without it, a cut made by anyone on the path looks the same).
    package var endedCleanly: Bool {
        writeError == 0 && readError == 0 && (tls.map { !$0.endedWithoutCloseNotify } ?? true)
    }

    /// Whether OpenSSL holds bytes it has not delivered: after a read that found no data, part of a record whose
    /// rest has not come (read-ahead keeps every byte the kernel gave it). False on a plain channel.
    package var tlsHoldsPartialRecord: Bool { tls.map { SSL_has_pending($0.ssl) == 1 } ?? false }

    /// Runs the handshake as far as the socket allows. While it waits, the read event (WANT_READ) or EV_WRITE
    /// (WANT_WRITE) is armed and its event reaches the delegate as `channelReadable` or `channelWritable`: the
    /// owner calls this again then. Done leaves the channel as a plain one is after its connect: not reading.
    package func handshake() -> TLSHandshakeStep {
        guard let tls, !closed else {
            return .failed(TLSFailure(kind: .handshakeFailed, detail: "the channel is not a TLS one, or is closed"))
        }
        ERR_clear_error()
        // Under the read budget too: a peer may stream messages a client ignores (HelloRequests, RFC 5246 7.4.1.1),
        // and without it one call read them for as long as they came, past the handshake timeout.
        tls.bio.pointee.budget = Channel.tlsReadBudget
        let rc = SSL_do_handshake(tls.ssl)
        tls.bio.pointee.budget = .max
        if rc == 1 {
            tls.handshakeDone = true
            stopReading()
            return .done(resumed: SSL_session_reused(tls.ssl) == 1)
        }
        let code = SSL_get_error(tls.ssl, rc)
        switch code {
        case SSL_ERROR_WANT_READ:
            startReading()
            return .waiting
        case SSL_ERROR_WANT_WRITE:
            writeEvent.add()
            return .waiting
        default:
            return .failed(tls.failure(code))
        }
    }

    /// Decrypts into `input`: SSL_read while OpenSSL still holds records, so one readable event costs one recv (the
    /// context reads ahead) and no second recv that could only return EAGAIN.
    func tlsRead(want: Int) -> ReadOutcome {
        guard let tls else { return .failed(EBADF) }
        tls.readAgain = false
        guard let space = input.room(for: want, from: blocks), let base = space.baseAddress else { return .failed(ENOMEM) }
        tls.bio.pointee.budget = Channel.tlsReadBudget
        defer { tls.bio.pointee.budget = .max }
        let room = space.count
        var got = 0
        var stop: ReadOutcome?
        // No ERR_clear_error first: the queue is empty between calls (TLSConnection's invariant).
        while got < room {
            var n = 0
            if SSL_read_ex(tls.ssl, base + got, room - got, &n) == 1 {
                got += n
                if SSL_has_pending(tls.ssl) == 0 { break }
                continue
            }
            let code = SSL_get_error(tls.ssl, 0)
            switch code {
            case SSL_ERROR_WANT_READ:
                // Only handshake messages came (a session ticket, a KeyUpdate), or half a record: nothing to read yet.
                stop = .wouldBlock
            case SSL_ERROR_WANT_WRITE:
                tls.readWantsWrite = true
                writeEvent.add()
                stop = .wouldBlock
            case SSL_ERROR_ZERO_RETURN:
                ERR_clear_error()
                stop = .eof
            case SSL_ERROR_SSL where berth_tls_unexpected_eof() != 0:
                // The socket's FIN without close_notify: an end for every framing but a close-delimited body's.
                ERR_clear_error()
                tls.endedWithoutCloseNotify = true
                stop = .eof
            default:
                stop = .failed(tls.errnoFor(code))
            }
            break
        }
        if got == 0 {
            input.readNothing(to: blocks)
            return stop ?? .wouldBlock
        }
        input.commit(got)
        // More than `want` was decrypted or read ahead, or an end followed the data: the socket may never be readable
        // again for it, so the next read is scheduled rather than waited for.
        let more = stop == nil ? SSL_has_pending(tls.ssl) == 1 : stop != .wouldBlock
        if more {
            if reading { readEvent.activate() } else { tls.readAgain = true }
        }
        adaptReadSize(read: got, want: room)
        // WANT_READ after data: OpenSSL held bytes that gave none (part of a record, or a ticket), looked at again
        // before the connection is reused (`holdsMoreThanRead`).
        if stop == .wouldBlock { readStoppedInsideRecord() }
        return .data(got)
    }

    /// A reader came back (`startReading`): what OpenSSL already holds is delivered without waiting for the socket.
    func tlsResumedReading() {
        guard let tls, tls.readAgain || SSL_has_pending(tls.ssl) == 1 else { return }
        tls.readAgain = false
        readEvent.activate()
    }

    /// Encrypts and sends `output`: one record per SSL_write, small output in several chains pulled into one record
    /// first (a head and a short body), as the plain path pulls them into one send. WANT_WRITE arms EV_WRITE as
    /// EAGAIN does; WANT_READ waits for the read event (see `tlsReadEvent`).
    func tlsFlush() -> Bool {
        guard let tls else { return false }
        tls.writeWantsRead = false
        while true {
            let total = evbuffer_get_length(output)
            if total == 0 { return true }
            var len = 0
            guard var chunk = berth_evbuffer_first_chunk(output, &len) else { return true }
            // Pulled-up output only grows between a retry and the call it repeats, so OpenSSL's rule that a retry
            // passes at least the bytes of the pending record holds.
            if len < total && len < Channel.coalesceLimit {
                let take = min(total, Channel.recordSize)
                guard let whole = evbuffer_pullup(output, take) else {
                    writeFailed(ENOMEM)
                    return false
                }
                chunk = UnsafePointer(whole)
                len = take
            }
            var n = 0
            if SSL_write_ex(tls.ssl, chunk, min(len, Channel.recordSize), &n) == 1 {
                evbuffer_drain(output, n)
                continue
            }
            let code = SSL_get_error(tls.ssl, 0)
            switch code {
            case SSL_ERROR_WANT_WRITE:
                writeEvent.add()
                return true
            case SSL_ERROR_WANT_READ:
                tls.writeWantsRead = true
                if !reading { readEvent.add() }
                return true
            default:
                writeFailed(tls.errnoFor(code))
                return false
            }
        }
    }

    /// Ciphertext bytes OpenSSL wrote to the socket over the connection's life, handshake included.
    var tlsBytesWritten: UInt64 {
        guard let tls, let bio = SSL_get_wbio(tls.ssl) else { return 0 }
        return UInt64(BIO_number_written(bio))
    }

    /// Output in several chains below this is pulled into one record; the plain path's send() uses the same bound.
    static let coalesceLimit = 4096
    /// The largest TLS record's payload: one SSL_write, one record.
    static let recordSize = 16384
    /// Ciphertext one read may take from the socket: the largest read (256 KiB of data), its records' overhead and
    /// read-ahead's overshoot of one record, so it never cuts a read of data short; a flood of records without data
    /// (tickets, ~8 us each to process) holds a turn of the loop ~10 ms at most instead of as long as it lasts.
    static let tlsReadBudget = 288 * 1024

    /// A readable event on a TLS channel: true when it was a write waiting for readability, handled here.
    func tlsReadEvent(_ owner: ChannelDelegate) -> Bool {
        guard let tls, tls.writeWantsRead else { return false }
        tls.writeWantsRead = false
        let wasReading = reading
        if !wasReading { readEvent.remove() }
        if !flush() || pendingOutput == 0 { owner.channelWritable(self) }
        if wasReading, !closed, delegate === owner { owner.channelReadable(self) }
        return true
    }

    /// A writable event on a TLS channel: the plain handling, then a read that was waiting for writability.
    func tlsWriteEvent(_ owner: ChannelDelegate) {
        guard let tls else { return }
        let readWaited = tls.readWantsWrite
        tls.readWantsWrite = false
        let before = pendingOutput
        if flush() {
            let left = pendingOutput
            if left == 0 { owner.channelWritable(self) } else if left < before { owner.channelWriteProgress(self) }
        } else {
            owner.channelWritable(self)
        }
        if readWaited, !closed, delegate === owner { owner.channelReadable(self) }
    }
}
