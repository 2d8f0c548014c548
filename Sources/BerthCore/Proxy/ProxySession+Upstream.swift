// The upstream half of an exchange: send the head, stream both bodies with backpressure, release through the gate, retry once.
import Glibc
import HTTP1
import EventLoop

extension ProxySession {
    /// Sends the current request on the leased connection and starts relaying. The connection is reached through
    /// the lease (a borrow), not copied out of it: a copy would cost a retain and a release per request.
    func send(on lease: consuming UpstreamLease, reused: Bool) {
        let now = worker.now
        lease.conn.leaveIdle(to: self)
        lease.conn.requestsServed += 1
        x.reused = reused
        machine.exchanging()
        let host = route.hostValue
        let options = worker.settings.forward
        let written = lease.conn.channel.writeInPlace { HeadSerializer.writeForwardRequest(x.request, host: host, options: options, reserve: $0) }
        if written, x.retried, case .holding(let copy) = x.replay {
            // A replay: the body bytes the stale connection took go out again from the copy; never a third time.
            lease.conn.channel.write(moving: copy.bytes)
            x.dropReplay(into: worker.replay, because: nil)
        }
        let sentOn = ObjectIdentifier(lease.conn.channel)
        link = .relaying(lease)
        // Out of memory for a head: nothing may follow it on this connection, and the caller gets a closed one.
        guard written else { return close() }
        x.sentAt = now
        responseParser.reset()
        pumpRequestBody()
        // The pump flushes and, on failure, already ended this exchange (or retried it on another connection):
        // nothing more to do with this one.
        guard let ch = link.connection?.channel, ObjectIdentifier(ch) == sentOn else { return }
        guard ch.flush() else { return upstreamEnded() }
        ch.startReading()
        ch.setTimeout(x.socketTimeout, now: worker.now)
        if caller.pendingInput > 0 && x.requestDone { caller.stopReading() }
    }

    /// Moves buffered request body bytes to the upstream without copying them (Channel.moveInput hands whole chains
    /// over); under `replay: unread` a copy of each run is kept first, while the body fits the replay buffer.
    func pumpRequestBody() {
        guard let up = link.connection, !x.requestDone else { return }
        let out = up.channel
        while !x.requestDone {
            let avail = caller.pendingInput
            if avail == 0 { break }
            let n: Int
            do {
                n = try x.requestBody.advance(available: avail, first: caller.inputChunk)
            } catch {
                abortUpstream(reason: .requestIncomplete)
                x.callerKeepAlive = false
                return answer(.badRequest, detail: "invalid chunked request body: \(error)")
            }
            if n == 0 { break }
            if case .holding(let copy) = x.replay { keepForReplay(n, in: copy) }
            caller.moveInput(n, to: out)
            x.requestBodyBytes += UInt64(n)
        }
        if out.pendingOutput > worker.settings.highWater {
            caller.stopReading()
        } else {
            caller.startReading()
        }
        if !out.flush() { upstreamEnded() }
    }

    /// Copies the next `n` body bytes into the replay copy, or drops the copy once the body outgrows the buffer.
    private func keepForReplay(_ n: Int, in copy: ReplayBuffer) {
        if copy.count + n > worker.replay.limit || !caller.copyInput(n, to: copy.bytes) {
            x.dropReplay(into: worker.replay, because: .bodyTooLarge)
            x.pool?.counters.countReplaySkip(.bodyTooLarge)
        }
    }

    func upstreamReadable() {
        guard let up = link.connection else { return }
        switch up.channel.read() {
        case .data(let n):
            if x.responseBytes == 0 {
                x.firstByteAt = worker.now
                x.pool?.counters.observe(.timeToFirstByte, x.firstByteAt - x.sentAt)
            }
            x.responseBytes += UInt64(n)
        case .wouldBlock:
            return
        case .eof, .failed:
            return upstreamEnded()
        }
        up.channel.setTimeout(x.socketTimeout, now: worker.now)
        pumpResponse()
    }

    /// Relays response heads and body bytes that have arrived; finishes the exchange at the message end.
    func pumpResponse() {
        guard let source = link.connection?.channel else { return }
        while case .awaitingHead = x.response {
            guard let chunk = source.inputChunk() else { return }
            let result: HeadParseResult
            do {
                result = try responseParser.parse(chunk)
            } catch {
                return upstreamInvalid("response head: \(error)")
            }
            guard case .complete(let consumed) = result else {
                source.drainInput(chunk.count)
                continue
            }
            source.drainInput(consumed)
            let head = responseParser.head
            let plan = ResponsePlan.plan(
                status: head.status, framing: head.framing(requestMethod: x.request.method), version: x.request.version,
                isUpgrade: x.request.isUpgrade, requestDone: x.requestDone, callerKeepAlive: x.callerKeepAlive,
                shuttingDown: worker.isShuttingDown)
            let final: ResponsePlan.Final
            switch plan {
            case .upgrade:
                return startUpgrade(head)
            case .invalid(let detail):
                return upstreamInvalid(detail)
            case .interim(let forward):
                if forward {
                    guard writeResponseHead(head, keepAlive: true, options: worker.settings.forward) else { return close() }
                    // A caller waiting for 100 Continue sends nothing until it sees it: it must leave now.
                    guard caller.flush() else { return close() }
                }
                responseParser.reset()
                continue
            case .final(let f):
                final = f
            }
            x.responseStatus = head.status
            x.responseKeepAlive = head.keepAlive
            x.callerKeepAlive = final.callerKeepAlive
            var options = worker.settings.forward
            if final.dechunk { options.dropTransferEncoding = true }
            if final.framing == .chunked {
                // Check the chunked framing that came with the head before the head goes out: a broken body found now
                // can still be answered with a clean 502; once the head is out, all berth can do is cut the connection.
                var probe = BodyDecoder(framing: .chunked, limits: worker.settings.limits)
                if let chunk = source.inputChunk() {
                    do {
                        _ = try probe.consume(chunk)
                    } catch {
                        return upstreamInvalid("chunked body: \(error)")
                    }
                }
            }
            guard writeResponseHead(head, keepAlive: x.callerKeepAlive, options: options) else { return close() }
            let body = Body(final.framing, limits: worker.settings.limits)
            x.response = body.isDone ? .complete : .streaming(body, dechunk: final.dechunk)
        }
        guard relayResponseBody(from: source) else { return }
        guard caller.flush() else { return close() }
        if x.responseDone {
            finishExchange()
        } else if caller.pendingOutput > worker.settings.highWater {
            // The caller reads slower than the upstream sends: stop reading the upstream; the caller's own timer now runs.
            source.stopReading()
            source.clearTimeout()
            apply(machine.callerBackedUp(idleTimeout: worker.settings.callerIdleTimeout))
        }
    }

    /// Moves the response body bytes that have arrived to the caller, as the body's state says; false when the
    /// body broke its framing (the session has then ended the exchange).
    private func relayResponseBody(from source: Channel) -> Bool {
        while case .streaming(var body, let dechunk) = x.response {
            let avail = source.pendingInput
            if avail == 0 { break }
            let n: Int
            do {
                if dechunk, let run = source.inputChunk() {
                    // Rare path (HTTP/1.0 callers): payload bytes are copied out, framing left behind.
                    n = try body.advanceDechunking(run) { range in caller.write(UnsafeRawBufferPointer(rebasing: run[range])) }
                    source.drainInput(n)
                } else {
                    n = try body.advance(available: avail, first: source.inputChunk)
                    source.moveInput(n, to: caller)
                }
            } catch {
                upstreamInvalid("chunked body: \(error)")
                return false
            }
            x.response = body.isDone ? .complete : .streaming(body, dechunk: dechunk)
            if n == 0 { break }
        }
        return true
    }

    /// Serialises a response head for the caller straight into its output buffer; false when it could not (the
    /// caller is closed, or there was no memory), and then the session must close rather than send the body alone.
    func writeResponseHead(_ head: ResponseHead, keepAlive: Bool, options: ForwardOptions) -> Bool {
        let version = x.request.version
        return caller.writeInPlace { HeadSerializer.writeForwardResponse(head, callerVersion: version, keepAlive: keepAlive, options: options, reserve: $0) }
    }

    /// The response ended: the connection goes through the release gate, and the caller gets its next turn.
    func finishExchange() {
        guard let lease = link.takeLease() else { return }
        lease.conn.channel.clearTimeout()
        // Bytes after the end of the response are a protocol error: that connection is never reused.
        let extra = lease.conn.channel.pendingInput > 0
        let facts = ReleaseFacts(
            responseComplete: x.responseDone, requestComplete: x.requestDone, keepAlive: x.responseKeepAlive,
            failure: extra ? .error : nil, requestsServed: lease.conn.requestsServed, openedAt: lease.conn.openedAt,
            epoch: lease.conn.epoch)
        if extra { worker.counters[.responsesWithExtraBytes] &+= 1 }
        worker.manager.release(lease, facts: facts, now: worker.now)
        endExchange(keepCaller: x.callerKeepAlive)
    }

    /// The upstream connection ended (EOF, reset or a failed write) before the response did: the exchange's rules
    /// say whether that completes an until-close body, sends the request again, or fails it.
    func upstreamEnded() {
        switch x.onUpstreamEnd(policy: x.pool?.settings.replay ?? .idempotent) {
        case .finishUntilClose:
            x.response = .complete
            x.responseKeepAlive = false
            guard caller.flush() else { return close() }
            finishExchange()
        case .retry(let reason):
            retry(reason)
        case .fail(let cause):
            abortUpstream(reason: .error)
            answer(cause, detail: "\(x.key?.description ?? "upstream") closed or reset the connection before the response ended")
        }
    }

    private func upstreamInvalid(_ detail: String) {
        abortUpstream(reason: .error)
        answer(.invalidResponse, detail: detail)
    }

    /// A reused connection died before any response byte: the request goes again on a fresh connection, once.
    private func retry(_ reason: RetryReason) {
        abortUpstream(reason: .error)
        x.retried = true
        x.reused = false
        x.responseBytes = 0
        x.pool?.counters.countRetry(reason)
        acquire(allowReuse: false)
    }

    func upstreamTimedOut() {
        let seconds = Double(x.socketTimeout) / 1e9
        abortUpstream(reason: .error)
        answer(.readTimeout, detail: "no data from \(x.key?.description ?? "upstream") for \(seconds)s")
    }

    func upstreamDrained() {
        guard let up = link.connection else { return }
        if up.channel.writeError != 0 { return upstreamEnded() }
        up.channel.setTimeout(x.socketTimeout, now: worker.now)
        if !x.requestDone { caller.startReading() }
    }
}
