// What one request/response exchange carries through its phases; reused across a caller's requests.
import HTTP1
import EventLoop

/// Per-request state of a proxy session.
struct Exchange {
    var request = RequestHead()
    /// The upstream it goes to (the CONNECT target for a tunnel).
    var key: PoolKey?
    var pool: UpstreamPool?
    /// Remaining request body bytes when Content-Length framed.
    var requestRemaining: UInt64 = 0
    var requestDecoder: BodyDecoder?
    var requestDone = true
    var requestBodyBytes: UInt64 = 0
    /// The response head has been forwarded to the caller.
    var responseHeadSent = false
    var responseFraming: BodyFraming = .none
    var responseRemaining: UInt64 = 0
    var responseDecoder: BodyDecoder?
    var responseDone = false
    /// Strip chunked framing on the way to an HTTP/1.0 caller.
    var dechunk = false
    var responseStatus = 0
    var responseKeepAlive = true
    /// Bytes of the response read from the upstream (head included).
    var responseBytes: UInt64 = 0
    /// Whether berth keeps the caller connection after this exchange.
    var callerKeepAlive = true
    var socketTimeout: Nanos = 0
    var reused = false
    var retried = false
    var startedAt: Nanos = 0
    var sentAt: Nanos = 0
    var firstByteAt: Nanos = 0
    /// The cause berth answered with, for the access log.
    var errorCause: ErrorCause?

    /// Whether a failed reused connection may be retried: idempotent or keyed, and no body byte was given away.
    var retryEligible: Bool {
        guard !retried, reused, responseBytes == 0, requestBodyBytes == 0 else { return false }
        return request.method.isIdempotent || request.headers.firstIndex(named: "idempotency-key") != nil
    }

    /// Clears everything for the next request.
    mutating func reset(now: Nanos) {
        key = nil
        pool = nil
        requestRemaining = 0
        requestDecoder = nil
        requestDone = true
        requestBodyBytes = 0
        responseHeadSent = false
        responseFraming = .none
        responseRemaining = 0
        responseDecoder = nil
        responseDone = false
        dechunk = false
        responseStatus = 0
        responseKeepAlive = true
        responseBytes = 0
        callerKeepAlive = true
        socketTimeout = 0
        reused = false
        retried = false
        startedAt = now
        sentAt = 0
        firstByteAt = 0
        errorCause = nil
    }
}
