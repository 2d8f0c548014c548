// The small responses berth writes itself to callers: an error with its Berth-Error cause, and the CONNECT acknowledgement.
import HTTP1
import EventLoop

/// Builds berth's own responses to callers; the head goes through HTTP1's one local-response writer.
enum ErrorResponse {
    /// A complete response naming `cause`; the status may differ from the cause's (a codec error picks its own).
    /// A kept connection announces `keepAliveTail` (`KeepAliveLine`, 0 for nothing), or to an `http10Caller`
    /// `Connection: keep-alive`.
    static func write(status: Int, cause: ErrorCause, detail: String, keepAlive: Bool, keepAliveTail: UInt64 = 0,
                      http10Caller: Bool = false, headOnly: Bool, into channel: Channel) {
        let body = "berth: \(cause.rawValue): \(detail)\n"
        var head = LocalResponse(status: status, fields: [("Berth-Error", cause.rawValue), ("Content-Type", "text/plain; charset=utf-8")],
                                 contentLength: body.utf8.count, keepAlive: keepAlive)
        head.keepAliveTail = keepAliveTail
        head.http10Caller = http10Caller
        guard channel.writeInPlace({ HeadSerializer.writeLocalResponse(head, reserve: $0) }) else { return }
        if !headOnly { channel.write(body) }
    }

    /// The answer to a CONNECT whose tunnel is open.
    static let connectEstablished: [UInt8] = Array("HTTP/1.1 200 Connection Established\r\n\r\n".utf8)
}
