// The upstream half of an exchange: send the head, stream both bodies with backpressure, release through the gate, retry once.
import Glibc
import HTTP1
internal import CLibevent

extension ProxySession {
    /// Sends the current request on `conn` and starts relaying.
    func send(on conn: UpstreamConnection, reused: Bool) {
        let now = worker.now
        upstream = conn
        conn.leaveIdle(to: self)
        conn.requestsServed += 1
        x.reused = reused
        machine.exchanging()
        let host = hostHeader()
        let options = worker.settings.forward
        guard conn.channel.writeInPlace({ HeadSerializer.writeForwardRequest(x.request, host: host, options: options, reserve: $0) }) else {
            // Out of memory for a head: nothing may follow it on this connection, and the caller gets a closed one.
            return close()
        }
        x.sentAt = now
        responseParser.reset()
        pumpRequestBody()
        // The pump flushes and, on failure, already ended this exchange: nothing more to do with this connection.
        guard upstream === conn else { return }
        guard conn.channel.flush() else { return upstreamFailed(.upstreamReset) }
        conn.channel.startReading()
        conn.channel.setTimeout(x.socketTimeout, now: worker.now)
        if caller.pendingInput > 0 && x.requestDone { caller.stopReading() }
    }

    /// The Host value to send: the absolute-form target's authority, else the caller's Host header (kept with the route).
    private func hostHeader() -> String {
        route.hostValue
    }

    /// Moves buffered request body bytes to the upstream without copying them (evbuffer_remove_buffer moves chains).
    func pumpRequestBody() {
        guard let up = upstream, !x.requestDone else { return }
        let out = up.channel.output
        while !x.requestDone {
            let avail = caller.pendingInput
            if avail == 0 { break }
            if x.requestDecoder == nil {
                let n = Int(min(UInt64(avail), x.requestRemaining))
                evbuffer_remove_buffer(caller.input, out, n)
                x.requestRemaining -= UInt64(n)
                x.requestBodyBytes += UInt64(n)
                if x.requestRemaining == 0 { x.requestDone = true }
            } else {
                var len = 0
                guard let ptr = berth_evbuffer_first_chunk(caller.input, &len), len > 0 else { break }
                let n: Int
                do {
                    n = try x.requestDecoder!.consume(UnsafeRawBufferPointer(start: ptr, count: len))
                } catch {
                    abortUpstream(reason: .requestIncomplete)
                    x.callerKeepAlive = false
                    answerError(.badRequest, detail: "invalid chunked request body: \(error)")
                    return
                }
                evbuffer_remove_buffer(caller.input, out, n)
                x.requestBodyBytes += UInt64(n)
                if x.requestDecoder!.isComplete {
                    x.requestDone = true
                } else if n < len {
                    break
                }
            }
        }
        if up.channel.pendingOutput > worker.settings.highWater {
            caller.stopReading()
        } else {
            caller.startReading()
        }
        if !up.channel.flush() { upstreamFailed(.upstreamReset) }
    }

    func upstreamReadable() {
        guard let up = upstream else { return }
        switch up.channel.read() {
        case .data(let n):
            if x.responseBytes == 0 {
                x.firstByteAt = worker.now
                x.pool?.counters.observe(.timeToFirstByte, x.firstByteAt - x.sentAt)
            }
            x.responseBytes += UInt64(n)
        case .wouldBlock:
            return
        case .eof:
            return upstreamEOF()
        case .failed:
            return upstreamFailed(.upstreamReset)
        }
        up.channel.setTimeout(x.socketTimeout, now: worker.now)
        pumpResponse()
    }

    /// Relays response heads and body bytes that have arrived; finishes the exchange at the message end.
    func pumpResponse() {
        guard let up = upstream else { return }
        let input = up.channel.input
        while !x.responseHeadSent {
            var len = 0
            guard let ptr = berth_evbuffer_first_chunk(input, &len), len > 0 else { return }
            let result: HeadParseResult
            do {
                result = try responseParser.parse(UnsafeRawBufferPointer(start: ptr, count: len))
            } catch {
                return upstreamInvalid("response head: \(error)")
            }
            guard case .complete(let consumed) = result else {
                evbuffer_drain(input, len)
                continue
            }
            evbuffer_drain(input, consumed)
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
            let framing = final.framing
            x.responseStatus = head.status
            x.responseKeepAlive = head.keepAlive
            x.responseFraming = framing
            x.callerKeepAlive = final.callerKeepAlive
            x.dechunk = final.dechunk
            var options = worker.settings.forward
            if final.dechunk { options.dropTransferEncoding = true }
            if framing == .chunked {
                // Check the chunked framing that came with the head before the head goes out: a broken body found now
                // can still be answered with a clean 502; once the head is out, all berth can do is cut the connection.
                var probe = BodyDecoder(framing: .chunked, limits: worker.settings.limits)
                var len = 0
                if let ptr = berth_evbuffer_first_chunk(input, &len), len > 0 {
                    do {
                        _ = try probe.consume(UnsafeRawBufferPointer(start: ptr, count: len))
                    } catch {
                        return upstreamInvalid("chunked body: \(error)")
                    }
                }
            }
            guard writeResponseHead(head, keepAlive: x.callerKeepAlive, options: options) else { return close() }
            x.responseHeadSent = true
            switch framing {
            case .none:
                x.responseDone = true
            case .contentLength(let n):
                x.responseRemaining = n
                x.responseDone = n == 0
            case .chunked:
                x.responseDecoder = BodyDecoder(framing: .chunked, limits: worker.settings.limits)
            case .untilClose:
                break
            }
        }
        let out = caller.output
        while !x.responseDone {
            let avail = evbuffer_get_length(input)
            if avail == 0 { break }
            switch x.responseFraming {
            case .contentLength:
                let n = Int(min(UInt64(avail), x.responseRemaining))
                evbuffer_remove_buffer(input, out, n)
                x.responseRemaining -= UInt64(n)
                if x.responseRemaining == 0 { x.responseDone = true }
            case .chunked:
                var len = 0
                guard let ptr = berth_evbuffer_first_chunk(input, &len), len > 0 else { break }
                let n: Int
                let chunk = UnsafeRawBufferPointer(start: ptr, count: len)
                do {
                    if x.dechunk {
                        // Rare path (HTTP/1.0 callers): payload bytes are copied out, framing left behind.
                        n = try x.responseDecoder!.consume(chunk) { range in
                            evbuffer_add(out, chunk.baseAddress! + range.lowerBound, range.count)
                        }
                    } else {
                        n = try x.responseDecoder!.consume(chunk)
                    }
                } catch {
                    return upstreamInvalid("chunked body: \(error)")
                }
                if x.dechunk { evbuffer_drain(input, n) } else { evbuffer_remove_buffer(input, out, n) }
                if x.responseDecoder!.isComplete { x.responseDone = true }
            case .untilClose:
                evbuffer_remove_buffer(input, out, avail)
            case .none:
                x.responseDone = true
            }
        }
        guard caller.flush() else { return close() }
        if x.responseDone {
            finishExchange()
        } else if caller.pendingOutput > worker.settings.highWater {
            // The caller reads slower than the upstream sends: stop reading the upstream; the caller's own timer now runs.
            up.channel.stopReading()
            up.channel.clearTimeout()
            apply(machine.callerBackedUp(idleTimeout: worker.settings.callerIdleTimeout))
        }
    }

    /// Serialises a response head for the caller straight into its output buffer; false when it could not (the
    /// caller is closed, or there was no memory), and then the session must close rather than send the body alone.
    func writeResponseHead(_ head: ResponseHead, keepAlive: Bool, options: ForwardOptions) -> Bool {
        let version = x.request.version
        return caller.writeInPlace { HeadSerializer.writeForwardResponse(head, callerVersion: version, keepAlive: keepAlive, options: options, reserve: $0) }
    }

    /// The response ended: the connection goes through the release gate, and the caller gets its next turn.
    func finishExchange() {
        guard let up = upstream else { return }
        upstream = nil
        up.channel.clearTimeout()
        // Bytes after the end of the response are a protocol error: that connection is never reused.
        let extra = evbuffer_get_length(up.channel.input) > 0
        let facts = ReleaseFacts(
            responseComplete: x.responseDone && x.responseFraming != .untilClose,
            requestComplete: x.requestDone,
            keepAlive: x.responseKeepAlive,
            failure: extra ? .error : nil,
            requestsServed: up.requestsServed,
            openedAt: up.openedAt,
            epoch: up.epoch
        )
        if extra { worker.counters[.responsesWithExtraBytes] &+= 1 }
        worker.manager.release(up, facts: facts, now: worker.now)
        endExchange(keepCaller: x.callerKeepAlive)
    }

    private func upstreamEOF() {
        if x.responseHeadSent && x.responseFraming == .untilClose {
            x.responseDone = true
            x.responseKeepAlive = false
            guard caller.flush() else { return close() }
            guard let up = upstream else { return }
            upstream = nil
            worker.manager.release(up, facts: ReleaseFacts(responseComplete: true, requestComplete: x.requestDone, keepAlive: false, failure: nil, requestsServed: up.requestsServed, openedAt: up.openedAt, epoch: up.epoch), now: worker.now)
            endExchange(keepCaller: false)
            return
        }
        upstreamFailed(.upstreamReset)
    }

    /// The upstream failed before the response ended: retry once when safe, else answer or cut.
    func upstreamFailed(_ cause: ErrorCause) {
        if x.retryEligible {
            return retry()
        }
        abortUpstream(reason: .error)
        answerError(cause, detail: "\(x.key?.description ?? "upstream") closed or reset the connection before the response ended")
    }

    private func upstreamInvalid(_ detail: String) {
        abortUpstream(reason: .error)
        answerError(.invalidResponse, detail: detail)
    }

    /// A reused connection died before any response byte: the request goes again on a fresh connection.
    private func retry() {
        abortUpstream(reason: .error)
        x.retried = true
        x.reused = false
        x.responseBytes = 0
        x.pool?.counters[.retries] &+= 1
        acquire(allowReuse: false)
    }

    func upstreamTimedOut() {
        let seconds = Double(x.socketTimeout) / 1e9
        abortUpstream(reason: .error)
        answerError(.readTimeout, detail: "no data from \(x.key?.description ?? "upstream") for \(seconds)s")
    }

    func upstreamDrained() {
        guard let up = upstream else { return }
        if up.channel.writeError != 0 { return upstreamFailed(.upstreamReset) }
        up.channel.setTimeout(x.socketTimeout, now: worker.now)
        if !x.requestDone { caller.startReading() }
    }

    /// Closes the current upstream connection through the gate with `reason`.
    func abortUpstream(reason: CloseReason) {
        guard let up = upstream else { return }
        upstream = nil
        up.channel.clearTimeout()
        let facts = ReleaseFacts(responseComplete: false, requestComplete: x.requestDone, keepAlive: false, failure: reason, requestsServed: up.requestsServed, openedAt: up.openedAt, epoch: up.epoch)
        // A fresh read: close() also comes from the worker's drain timer and shutdown, outside any session event.
        worker.manager.release(up, facts: facts, now: MonotonicClock.now())
    }
}
