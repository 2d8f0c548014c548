// HTTP protocol versions; the parsers only ever produce 1.0 and 1.1.

/// An HTTP version; only 1.0 and 1.1 parse.
public struct HTTPVersion: Hashable, Sendable {
    /// The major digit.
    public var major: Int
    /// The minor digit.
    public var minor: Int
    /// A version from its two digits.
    @inlinable public init(major: Int, minor: Int) { self.major = major; self.minor = minor }
    // Constants the compiler sees, not stored globals: a `static let` read from another module is a call to its
    // addressor (and its once-check) at every `== .http10`, one per request on the relay's path.
    /// HTTP/1.0.
    @inlinable public static var http10: HTTPVersion { HTTPVersion(major: 1, minor: 0) }
    /// HTTP/1.1.
    @inlinable public static var http11: HTTPVersion { HTTPVersion(major: 1, minor: 1) }
}

extension HTTPVersion {
    /// Reads exactly `HTTP/d.d`: a wrong shape is 400, a well-formed but unsupported version is 505.
    static func parse(_ p: UnsafeRawBufferPointer) throws(HTTP1Error) -> HTTPVersion {
        guard p.count == 8, p[0] == 0x48, p[1] == 0x54, p[2] == 0x54, p[3] == 0x50, p[4] == 0x2F,
              p[6] == 0x2E, isDigit(p[5]), isDigit(p[7]) else { throw .invalidVersion }
        guard p[5] == 0x31, p[7] == 0x30 || p[7] == 0x31 else { throw .unsupportedVersion }
        return p[7] == 0x30 ? .http10 : .http11
    }

    /// Appends `HTTP/1.x`; anything but 1.0 is written as 1.1 because that is all berth speaks. Inlined: a call for
    /// eight bytes cost more than writing them.
    @inline(__always)
    static func write(_ v: HTTPVersion, into out: inout HeadWriter) {
        out.literal(v == .http10 ? "HTTP/1.0" : "HTTP/1.1")
    }
}
