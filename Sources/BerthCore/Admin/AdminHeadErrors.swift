// The admin API's words for a request head it cannot read: a sentence for the operator, with the codec's stable name.
import HTTP1

extension HTTP1Error {
    /// What is wrong with the request, in words, then the codec's name in parentheses (`invalid-target`): the
    /// admin's error body is read by people and scripts, and Swift's case names (`invalidTarget`) serve neither.
    var adminMessage: String {
        let words: String
        switch self {
        case .invalidMethod: words = "malformed request line: the method is not an HTTP token"
        case .invalidTarget:
            words = "malformed request target: it must be a path with an optional query, every byte outside RFC 3986's "
                + "set percent-encoded (percent-encode non-ASCII and spaces; no #fragment)"
        case .invalidVersion: words = "malformed request line: it must end with HTTP/1.0 or HTTP/1.1"
        case .unsupportedVersion: words = "HTTP version not supported: the admin API speaks HTTP/1.0 and HTTP/1.1"
        case .startLineTooLong: words = "request line too long"
        case .headerSectionTooLarge: words = "request header section too large"
        case .tooManyHeaders: words = "too many request header fields"
        case .invalidHeaderName: words = "malformed header field name"
        case .invalidHeaderValue:
            words = "malformed header field value (a control byte, or a Host that is not HOST or HOST:PORT with a port in 1-65535)"
        case .obsFold: words = "header field folded over lines (obs-fold), which HTTP/1.1 no longer allows"
        case .whitespaceBeforeColon: words = "whitespace between a header field name and its colon"
        case .bareCR: words = "a CR not followed by LF in the request head"
        case .bareLF: words = "a line ending in LF without CR in the request head"
        case .missingHost: words = "an HTTP/1.1 request needs a Host field"
        case .conflictingHost: words = "more than one Host field"
        case .contentLengthWithTransferEncoding: words = "both Content-Length and Transfer-Encoding"
        case .conflictingContentLength, .invalidContentLength: words = "malformed Content-Length"
        case .unsupportedTransferEncoding, .invalidTransferEncoding: words = "a Transfer-Encoding the admin API does not take (admin requests take no body)"
        case .invalidChunkSize, .invalidChunkFraming, .trailerTooLarge, .truncatedBody: words = "malformed request body (admin requests take no body)"
        case .invalidStatusLine: words = "malformed request"
        }
        return "\(words) (\(name))"
    }
}
