// One OpenSSL client context: the trust store, the client certificate, the minimum version and berth's fixed choices.
import Glibc
internal import COpenSSL

/// The oldest protocol version a context accepts; TLS 1.2 at the least (older ones are broken).
package enum TLSProtocolVersion: Sendable {
    case tls12, tls13

    var raw: Int32 {
        switch self {
        case .tls12: return TLS1_2_VERSION
        case .tls13: return TLS1_3_VERSION
        }
    }
}

/// Where the certificates a context trusts come from.
package enum TLSTrust: Sendable {
    /// The system store (Debian's ca-certificates, or SSL_CERT_FILE / SSL_CERT_DIR when set).
    case system
    /// These PEM certificates only (a private CA): the system store is not consulted.
    case pem(String)
}

/// A context could not be made; `part` says which input was at fault, `message` why (OpenSSL's reason included).
package struct TLSSetupError: Error, Sendable, CustomStringConvertible {
    /// The input at fault.
    package enum Part: Sendable { case trust, certificate, key, library }
    package var part: Part
    package var message: String
    package var description: String { message }
}

/// The settings every connection made with it shares. Immutable once made, so workers share one: OpenSSL allows
/// SSL_new on a context from several threads as long as nobody changes the context.
package final class TLSClientContext: @unchecked Sendable {
    /// The SSL_CTX.
    let raw: OpaquePointer
    /// Whether the peer's certificate chain and name are checked.
    package let verifies: Bool

    /// Builds a context from PEM text already read (so check-config reads the same bytes the server will use).
    /// `certificate` is the client's chain, leaf first; `key` its private key, unencrypted.
    package init(verify: Bool, trust: TLSTrust, certificate: String?, key: String?, minimum: TLSProtocolVersion) throws(TLSSetupError) {
        ERR_clear_error()
        guard let ctx = berth_tls_ctx_new(minimum.raw, verify ? 1 : 0) else {
            throw TLSSetupError(part: .library, message: "cannot make a TLS context: \(TLSErrors.drain())")
        }
        raw = ctx
        verifies = verify
        SSL_CTX_sess_set_new_cb(ctx, tlsNewSessionTrampoline)
        switch trust {
        case .system:
            if SSL_CTX_set_default_verify_paths(ctx) != 1 {
                throw TLSSetupError(part: .trust, message: "cannot use the system certificate store: \(TLSErrors.drain())")
            }
        case .pem(let text):
            let count = try Self.addTrusted(text, to: ctx)
            if count == 0 { throw TLSSetupError(part: .trust, message: "holds no PEM certificate") }
        }
        switch (certificate, key) {
        case (nil, nil):
            break
        case (let certificate?, let key?):
            try Self.useCertificate(certificate, key: key, on: ctx)
        case (nil, _):
            throw TLSSetupError(part: .certificate, message: "a client key needs its certificate")
        case (_, nil):
            throw TLSSetupError(part: .key, message: "a client certificate needs its key")
        }
        // Loading can succeed and still queue errors (a default store path that does not exist); the data path
        // counts on an empty queue (TLSConnection).
        ERR_clear_error()
    }

    deinit { SSL_CTX_free(raw) }

    /// Adds every certificate of `pem` to the context's store; returns how many.
    private static func addTrusted(_ pem: String, to ctx: OpaquePointer) throws(TLSSetupError) -> Int {
        let added = TLSErrors.withBytes(pem) { berth_tls_ctx_trust_pem(ctx, $0, $1) }
        guard added >= 0 else { throw TLSSetupError(part: .trust, message: "is not PEM certificates: \(TLSErrors.drain())") }
        ERR_clear_error()
        return Int(added)
    }

    /// Installs the client's chain (leaf first) and key, and checks that they belong together.
    private static func useCertificate(_ chain: String, key: String, on ctx: OpaquePointer) throws(TLSSetupError) {
        guard TLSErrors.withBytes(chain, { berth_tls_ctx_use_chain_pem(ctx, $0, $1) }) == 1 else {
            throw TLSSetupError(part: .certificate, message: "is not a PEM certificate: \(TLSErrors.drain())")
        }
        switch TLSErrors.withBytes(key, { berth_tls_ctx_use_key_pem(ctx, $0, $1) }) {
        case 1:
            return
        case -1:
            ERR_clear_error()
            throw TLSSetupError(part: .key, message: "does not match the client certificate")
        default:
            throw TLSSetupError(part: .key, message: "is not an unencrypted PEM private key: \(TLSErrors.drain())")
        }
    }
}

/// OpenSSL's per-thread error queue, read as text, and PEM input handed over in memory.
enum TLSErrors {
    /// Every queued error as one line, oldest first, and the queue emptied; "unknown error" when it was empty.
    static func drain() -> String {
        var parts: [String] = []
        var buffer = [CChar](repeating: 0, count: 256)
        while case let code = ERR_get_error(), code != 0 {
            ERR_error_string_n(code, &buffer, buffer.count)
            parts.append(String(cString: buffer))
        }
        return parts.isEmpty ? "unknown error" : parts.joined(separator: "; ")
    }

    /// Runs `body` with `text`'s UTF-8 bytes and their count, as OpenSSL's memory BIOs take them.
    static func withBytes<R>(_ text: String, _ body: (UnsafePointer<CChar>, Int32) -> R) -> R {
        text.withCString { body($0, Int32(text.utf8.count)) }
    }
}
