// The small responses berth writes itself: an error with its Berth-Error cause, and the CONNECT acknowledgement.
import HTTP1
import EventLoop

/// Builds berth's own responses.
enum ErrorResponse {
    /// Reason phrases for the statuses berth answers with.
    static func reason(_ status: Int) -> String {
        switch status {
        case 400: return "Bad Request"
        case 403: return "Forbidden"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 414: return "URI Too Long"
        case 431: return "Request Header Fields Too Large"
        case 501: return "Not Implemented"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        case 505: return "HTTP Version Not Supported"
        default: return "Error"
        }
    }

    /// A complete response naming `cause`; the status may differ from the cause's (a codec error picks its own).
    static func write(status: Int, cause: ErrorCause, detail: String, keepAlive: Bool, headOnly: Bool, into channel: Channel) {
        let body = "berth: \(cause.rawValue): \(detail)\n"
        var text = "HTTP/1.1 \(status) \(reason(status))\r\n"
        text += "Berth-Error: \(cause.rawValue)\r\n"
        text += "Content-Type: text/plain; charset=utf-8\r\n"
        text += "Content-Length: \(body.utf8.count)\r\n"
        text += keepAlive ? "\r\n" : "Connection: close\r\n\r\n"
        if !headOnly { text += body }
        channel.write(text)
    }

    /// The answer to a CONNECT whose tunnel is open.
    static let connectEstablished: [UInt8] = Array("HTTP/1.1 200 Connection Established\r\n\r\n".utf8)
}
