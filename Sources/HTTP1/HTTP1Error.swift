// The typed errors of the codec, the status a server answers each with, and the words that say what was wrong.

/// Why a message was refused.
public enum HTTP1Error: Error, Equatable, Sendable {
    case invalidMethod, invalidTarget, invalidVersion, unsupportedVersion
    case startLineTooLong, headerSectionTooLarge, tooManyHeaders
    case invalidHeaderName, invalidHeaderValue, obsFold, whitespaceBeforeColon, bareCR, bareLF
    case missingHost, conflictingHost
    case contentLengthWithTransferEncoding, conflictingContentLength, invalidContentLength
    case unsupportedTransferEncoding, invalidTransferEncoding
    case invalidChunkSize, invalidChunkFraming, trailerTooLarge
    case invalidStatusLine, truncatedBody

    /// The status a server answers with.
    public var status: Int {
        switch self {
        case .unsupportedVersion: return 505
        case .startLineTooLong: return 414
        case .headerSectionTooLarge, .tooManyHeaders: return 431
        case .unsupportedTransferEncoding: return 501
        default: return 400
        }
    }

    /// A stable kebab-case identifier, for logs and metrics labels that must not change with Swift's printing.
    public var name: String {
        switch self {
        case .invalidMethod: return "invalid-method"
        case .invalidTarget: return "invalid-target"
        case .invalidVersion: return "invalid-version"
        case .unsupportedVersion: return "unsupported-version"
        case .startLineTooLong: return "start-line-too-long"
        case .headerSectionTooLarge: return "header-section-too-large"
        case .tooManyHeaders: return "too-many-headers"
        case .invalidHeaderName: return "invalid-header-name"
        case .invalidHeaderValue: return "invalid-header-value"
        case .obsFold: return "obs-fold"
        case .whitespaceBeforeColon: return "whitespace-before-colon"
        case .bareCR: return "bare-cr"
        case .bareLF: return "bare-lf"
        case .missingHost: return "missing-host"
        case .conflictingHost: return "conflicting-host"
        case .contentLengthWithTransferEncoding: return "content-length-with-transfer-encoding"
        case .conflictingContentLength: return "conflicting-content-length"
        case .invalidContentLength: return "invalid-content-length"
        case .unsupportedTransferEncoding: return "unsupported-transfer-encoding"
        case .invalidTransferEncoding: return "invalid-transfer-encoding"
        case .invalidChunkSize: return "invalid-chunk-size"
        case .invalidChunkFraming: return "invalid-chunk-framing"
        case .trailerTooLarge: return "trailer-too-large"
        case .invalidStatusLine: return "invalid-status-line"
        case .truncatedBody: return "truncated-body"
        }
    }

    /// What was wrong, in words, then the stable name in parentheses (`malformed header field name ... (invalid-header-name)`):
    /// the one text both servers answer with (the proxy's 400/414/431/501/505 body, the admin's error), read by people
    /// and scripts alike. Swift's case names (`invalidHeaderName`) serve neither. Fixed text only, so no byte of the
    /// message that broke the rules is ever echoed.
    public var detail: String { "\(words) (\(name))" }

    /// What was wrong in plain words, for a request or a response, head or chunked body.
    public var words: String {
        switch self {
        case .invalidMethod: return "malformed request line: the method is not an HTTP token"
        case .invalidTarget:
            return "malformed request target: it must be a path with an optional query (an absolute http:// URL through "
                + "a proxy, HOST:PORT for CONNECT), every byte outside RFC 3986's set percent-encoded (percent-encode "
                + "non-ASCII and spaces; no #fragment)"
        case .invalidVersion: return "malformed or missing HTTP version: it must be HTTP/1.0 or HTTP/1.1"
        case .unsupportedVersion: return "HTTP version not supported (only HTTP/1.0 and HTTP/1.1)"
        case .startLineTooLong: return "request line too long"
        case .headerSectionTooLarge: return "header section too large"
        case .tooManyHeaders: return "too many header fields"
        case .invalidHeaderName:
            return "malformed header field name: it must be an HTTP token (letters, digits and symbols such as - and _; "
                + "no spaces, colons or other separators)"
        case .invalidHeaderValue:
            return "malformed header field value (a control byte, or a Host that is not HOST or HOST:PORT with a port in 1-65535)"
        case .obsFold: return "a header field line continued on the next line (folded), which HTTP/1.1 no longer allows"
        case .whitespaceBeforeColon: return "whitespace between a header field name and its colon"
        case .bareCR: return "a CR not followed by LF"
        case .bareLF: return "a line ending in LF without CR"
        case .missingHost: return "an HTTP/1.1 request needs a Host field"
        case .conflictingHost: return "more than one Host field"
        case .contentLengthWithTransferEncoding: return "both Content-Length and Transfer-Encoding"
        case .conflictingContentLength: return "Content-Length given more than once with different values"
        case .invalidContentLength: return "malformed Content-Length: it must be decimal digits, at most 2^62"
        case .unsupportedTransferEncoding:
            return "a Transfer-Encoding other than chunked alone, which is not supported (send chunked or a Content-Length)"
        case .invalidTransferEncoding:
            return "malformed Transfer-Encoding: chunked more than once or not the last coding, an empty or malformed "
                + "coding, or any coding in an HTTP/1.0 message"
        case .invalidChunkSize: return "malformed chunk size: it must be 1 to 15 hexadecimal digits"
        case .invalidChunkFraming:
            return "malformed chunk: its data not followed by CRLF, a bad byte, a malformed extension or a line too long in its size line"
        case .trailerTooLarge: return "trailer section too large"
        case .invalidStatusLine: return "malformed or too long status line"
        case .truncatedBody: return "the body ended before its framing said it would"
        }
    }
}
