// Max-Forwards on TRACE and OPTIONS (RFC 9110 7.6.2): answered by berth at 0, forwarded decremented above it.
import HTTP1
import EventLoop

extension ProxySession {
    /// A TRACE or OPTIONS request's `Max-Forwards`, which every intermediary MUST check: at 0 the request is not
    /// forwarded and berth answers as its final recipient (true: answered); above it the request goes on with the
    /// value less one (`Exchange.maxForwards`, written by the serializer). A missing field, a value that is not one
    /// number (1*DIGIT), or several values leave the request as it came, as a proxy that does not understand the
    /// field would. Other methods ignore it (the RFC's MAY). Called after routing, so a loop, a denied destination or
    /// a bad target gets its own answer first; out of line, off the hot path.
    @inline(never)
    func takeMaxForwards() -> Bool {
        let values = exchange.request.headers.values(named: "max-forwards")
        guard values.count == 1, let n = Self.maxForwardsValue(values[0]) else { return false }
        if n > 0 {
            exchange.maxForwards = n - 1
            return false
        }
        answerAsFinalRecipient()
        return true
    }

    /// `1*DIGIT`, saturated at a value no chain of proxies reaches; nil for anything else.
    static func maxForwardsValue(_ text: String) -> Int? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        var n = 0
        for d in text.utf8 { n = min(n * 10 + Int(d - 0x30), 1 << 31) }
        return n
    }

    /// The answer to a TRACE or OPTIONS whose Max-Forwards reached 0 here. OPTIONS: `200` with the methods berth
    /// forwards (`Allow`) and no content. TRACE: `200` with the request as berth received it as `message/http`,
    /// without the fields that carry credentials (`Authorization`, `Proxy-Authorization`, `Cookie`), which RFC 9110
    /// 9.3.8 asks a final recipient to leave out. The connection is kept as after any answer of berth's own.
    private func answerAsFinalRecipient() {
        let head = exchange.request
        let closeAfter = needsFreshConnection || head.isUpgrade
        let keep = !closeAfter && exchange.callerKeepAlive && exchange.requestDone && !worker.isShuttingDown
        let body = head.method == .trace ? Self.traceEcho(head) : []
        var fields: [(name: StaticString, value: String)] = [("Allow", "GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, TRACE, PATCH")]
        if head.method == .trace { fields = [("Content-Type", "message/http")] }
        var response = LocalResponse(status: 200, fields: fields, contentLength: body.count, keepAlive: keep)
        response.keepAliveTail = head.version == .http11 ? worker.settings.keepAliveTail : 0
        response.http10Caller = head.version == .http10
        exchange.responseStatus = 200
        guard caller.writeInPlace({ HeadSerializer.writeLocalResponse(response, reserve: $0) }) else { return close() }
        if !body.isEmpty { caller.write(body) }
        if closeAfter {
            _ = caller.flush()
            logAnswerEnd()
            return closeAfterFlush()
        }
        endExchange(keepCaller: keep)
    }

    /// The request line and field lines of `head` as received, less the credential fields, and the blank line.
    static func traceEcho(_ head: RequestHead) -> [UInt8] {
        var out = Array("\(head.method.rawValue) \(head.target) \(head.version == .http10 ? "HTTP/1.0" : "HTTP/1.1")\r\n".utf8)
        let secret: Set<String> = ["authorization", "proxy-authorization", "cookie"]
        for i in 0..<head.headers.count where !secret.contains(head.headers.name(at: i).lowercased()) {
            head.headers.withLineBytes(at: i) { out.append(contentsOf: $0) }
            out += [13, 10]
        }
        return out + [13, 10]
    }
}
