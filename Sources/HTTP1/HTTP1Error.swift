// The typed errors of the codec and the status a server answers each with.

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
}
