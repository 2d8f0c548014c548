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

    /// Runs the handshake as far as the socket allows. While it waits, the read event (WANT_READ) or EV_WRITE (a
    /// flight the kernel had no room for all of, queued in the BIO) is armed and its event reaches the delegate as
    /// `channelReadable` or `channelWritable`: the owner calls this again then. Done (only once the last flight has
    /// left, as when OpenSSL itself waited to write it) leaves the channel as a plain one is after its connect: not
    /// reading.
    package func handshake() -> TLSHandshakeStep {
        guard let tls, !closed else {
            return .failed(TLSFailure(kind: .handshakeFailed, detail: "the channel is not a TLS one, or is closed"))
        }
        if tls.queued > 0 {
            switch tlsSendQueued(tls) {
            case .sent: break
            case .pushedBack: return .waiting
            case .failed(let e):
                return .failed(TLSFailure(kind: .handshakeFailed, detail: "\(String(cString: strerror(e))) during the handshake"))
            }
        }
        ERR_clear_error()
        // Under the read budget too: a peer may stream messages a client ignores (HelloRequests, RFC 5246 7.4.1.1),
        // and without it one call read them for as long as they came, past the handshake timeout.
        tls.bio.pointee.budget = Channel.tlsReadBudget
        let rc = SSL_do_handshake(tls.ssl)
        tls.bio.pointee.budget = .max
        let held = tlsNoteBacklog(tls)
        if rc == 1 {
            tls.handshakeDone = true
            stopReading()
            return held ? .waiting : .done(resumed: SSL_session_reused(tls.ssl) == 1)
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
        // A message the read answered (a KeyUpdate asked for) that the kernel had no room for: sent on EV_WRITE.
        tlsNoteBacklog(tls)
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
    /// first (a head and a short body), as the plain path pulls them into one send. The BIO sends each record at
    /// once and queues what the kernel does not take (shim.h); that rest leaves first at the next flush, and no
    /// record is made while any of it is left (EV_WRITE armed, as at EAGAIN): at most a record waits there, the
    /// plaintext behind it stays in `output` under the owner's high-water, and OpenSSL never holds a record half
    /// sent (which made it fail a KeyUpdate answer inside SSL_read: item 157). WANT_READ waits for the read event
    /// (see `tlsReadEvent`).
    func tlsFlush() -> Bool {
        guard let tls else { return false }
        tls.writeWantsRead = false
        if tls.queued > 0 {
            switch tlsSendQueued(tls) {
            case .sent: break
            case .pushedBack: return true
            case .failed(let e):
                writeFailed(e)
                return false
            }
        }
        while true {
            let total = evbuffer_get_length(output)
            if total == 0 { return true }
            var len = 0
            guard var chunk = berth_evbuffer_first_chunk(output, &len) else { return true }
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
                // The kernel took part of the record, or none: the rest waits for EV_WRITE.
                if tlsNoteBacklog(tls) { return true }
                continue
            }
            tlsNoteBacklog(tls)
            let code = SSL_get_error(tls.ssl, 0)
            switch code {
            case SSL_ERROR_WANT_WRITE:  // not from berth's BIO, which never asks a write to retry
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

    /// Ciphertext bytes the BIO handed to the kernel over the connection's life, handshake included; not those it
    /// still queues (OpenSSL's own count, BIO_number_written, takes them as written).
    var tlsBytesWritten: UInt64 {
        guard let tls else { return 0 }
        return tls.bio.pointee.sent
    }

    /// How sending the BIO's queue went.
    enum QueuedSend {
        case sent
        /// The kernel pushed back: EV_WRITE is armed.
        case pushedBack
        /// The socket failed with this errno.
        case failed(Int32)
    }

    /// Sends the ciphertext the BIO queued, in order, as far as the kernel takes it.
    func tlsSendQueued(_ tls: TLSConnection) -> QueuedSend {
        let rc = berth_bio_send_queued(tls.bio)
        tlsBacklog = tls.queued
        if rc == 1 { return .sent }
        if rc == 0 {
            writeEvent.add()
            return .pushedBack
        }
        return .failed(-rc)
    }

    /// After an OpenSSL call: the ciphertext the BIO queued counts as output and EV_WRITE is armed to send it.
    /// True when there is some.
    @discardableResult
    func tlsNoteBacklog(_ tls: TLSConnection) -> Bool {
        let held = tls.queued
        tlsBacklog = held
        guard held > 0 else { return false }
        writeEvent.add()
        return true
    }

    /// The sending side is being shut (`shutdownWrite`, once the output drained): close_notify, if the handshake is
    /// done and no write failed. What of it the kernel had no room for is dropped, the FIN following at once, as
    /// OpenSSL left an alert it could not write unsent.
    func tlsShutdownWrite() {
        guard let tls else { return }
        if writeError == 0, tls.handshakeDone { tls.shutdown() }
        berth_bio_drop_queued(tls.bio)
        tlsBacklog = 0
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
