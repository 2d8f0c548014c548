// berth's own 100 Continue for a caller that waits for one an origin never sends (clients: curl, Apache HttpClient).
import EventLoop
import HTTP1

extension ProxySession {
    /// At the socket timeout: whether berth sent the caller a `100 Continue` in the origin's place, and waits once
    /// more. An origin that does not implement expectations may read the body without a 100 (RFC 9110 10.1.1), and
    /// its callers send the body anyway after a wait of their own (curl 1 s, HttpClient 3 s); a socket timeout
    /// shorter than that wait (125 ms in same-region) made each such upload a 504 "request body stalled", where the
    /// staller was the protocol. So when nothing of the body was sent or read and nothing came from the upstream, an
    /// HTTP/1.1 caller that asked for `100-continue` gets one (once per request: a second silence is the origin's).
    /// An origin's own 100 later is dropped (`RelayDriver.carryOutRare`): one answer to one expectation.
    /// "Nothing from the upstream" means no answer to the expectation: interim heads other than 100 (a `103 Early
    /// Hints` sent at once) answer none, so they may have gone before; an origin's 100, a final head or a head
    /// still arriving (its own deadline bounds it) may not.
    func continuesForCaller(_ up: Channel) -> Bool {
        guard !exchange.continueSent, !exchange.continueRelayed, !exchange.requestDone, exchange.requestBodyBytes == 0,
              case .awaitingHead = exchange.response, up.pendingInput == 0, !responseParser.hasPartialHead,
              caller.pendingInput == 0, exchange.request.version != .http10, expectsContinue(exchange.request.headers)
        else { return false }
        exchange.continueSent = true
        caller.write("HTTP/1.1 100 Continue\r\n\r\n")
        guard caller.flush() else { return false }
        up.setTimeout(exchange.socketTimeout, now: worker.now)
        return true
    }

    /// Whether the request asked for `Expect: 100-continue` (the value compared without case, RFC 9110 10.1.1).
    private func expectsContinue(_ headers: HTTPHeaders) -> Bool {
        guard let i = headers.firstIndex(named: "expect") else { return false }
        return headers.value(at: i).lowercased() == "100-continue"
    }
}
