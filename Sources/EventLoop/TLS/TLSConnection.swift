// One TLS client connection's OpenSSL state on a channel's socket, and how its failures read.
import Glibc
internal import COpenSSL

/// What a TLS connection needs besides its socket: the shared context, the name it is for and where its
/// resumption state lives. Chosen when the channel is made (`Channel.connect(..., tls:)`).
package struct TLSClientSetup {
    package var context: TLSClientContext
    /// The SNI and, when verifying, the name (or IP address) the certificate must carry.
    package var peerName: String
    /// The upstream's resumption state, offered at the handshake and refreshed by every session the peer issues.
    package var tickets: TLSTicketCache?

    /// A setup for connecting to `peerName`.
    package init(context: TLSClientContext, peerName: String, tickets: TLSTicketCache?) {
        self.context = context
        self.peerName = peerName
        self.tickets = tickets
    }
}

/// Why a handshake failed, as berth reports it; `detail` is OpenSSL's reason, for the log only.
package struct TLSFailure: Error, Sendable, Equatable {
    /// The reported kinds.
    package enum Kind: Sendable, Equatable {
        /// The chain did not verify: unknown CA, self-signed, expired, not yet valid, revoked...
        case untrustedCertificate
        /// The chain verified but names another host.
        case hostnameMismatch
        /// Anything else: a protocol alert, no common version or cipher, a refused client certificate, a reset.
        case handshakeFailed
    }
    package var kind: Kind
    package var detail: String

    /// A failure of `kind`, with OpenSSL's (or berth's) reason.
    package init(kind: Kind, detail: String) {
        self.kind = kind
        self.detail = detail
    }
}

/// How far a handshake got.
package enum TLSHandshakeStep: Equatable {
    /// Done; `resumed` when the peer took the offered session (no certificate exchange).
    case done(resumed: Bool)
    /// Waiting for the socket: the channel has armed its read event or EV_WRITE, whose event comes to the delegate.
    case waiting
    case failed(TLSFailure)
}

/// The SSL object of one channel, with the crossed waits OpenSSL could ask for after the handshake: a read that must
/// first write and a write that must first read. The BIO never asks a write to retry (it queues what the kernel has
/// no room for: shim.h), so the first no longer happens; renegotiation is off, so the second does not happen with a
/// conforming peer. Both are handled rather than assumed away.
///
/// Invariant: berth leaves OpenSSL's per-thread error queue empty after every call that can fill it (each failure
/// path here and in TLSClientContext empties it), so the reads and writes of the data path do not empty it before
/// each call, as SSL_get_error otherwise requires: ERR_clear_error cost ~100 instructions a call, 8 calls a request.
final class TLSConnection {
    let ssl: OpaquePointer
    /// The BIO's socket, read budget and queue of ciphertext the kernel had no room for (shim.h), freed with the SSL.
    let bio: UnsafeMutablePointer<berth_bio_state>
    let verifies: Bool
    /// Strong: the new-session callback reaches it through the SSL's app data while the SSL lives.
    let tickets: TLSTicketCache?
    var handshakeDone = false
    /// SSL_read returned WANT_WRITE: the next writable event must read again.
    var readWantsWrite = false
    /// SSL_write returned WANT_READ: the next readable event must flush again.
    var writeWantsRead = false
    /// A read stopped with more than it could take already inside OpenSSL: the next startReading must not wait for
    /// the socket, which may never become readable again for bytes already read from it.
    var readAgain = false
    /// The peer closed the socket without close_notify: an EOF, but not one that may end a close-delimited body.
    var endedWithoutCloseNotify = false

    /// A connection on `fd` for `setup`; nil when OpenSSL could not make one.
    init?(_ setup: TLSClientSetup, fd: CInt) {
        let bio = UnsafeMutablePointer<berth_bio_state>.allocate(capacity: 1)
        bio.initialize(to: berth_bio_state_make(fd))
        guard let ssl = berth_tls_new(setup.context.raw, bio, nil) else {
            bio.deallocate()
            ERR_clear_error()
            return nil
        }
        self.ssl = ssl
        self.bio = bio
        verifies = setup.context.verifies
        tickets = setup.tickets
        let isIP = SocketAddress(numericHost: setup.peerName, port: 0) != nil
        guard berth_tls_set_peer_name(ssl, setup.peerName, isIP ? 1 : 0, verifies ? 1 : 0) == 1 else {
            SSL_free(ssl)
            bio.deallocate()
            ERR_clear_error()
            return nil
        }
        setup.tickets?.offer(to: ssl)
        attachTLSConnection(self, to: ssl)
        ERR_clear_error()
    }

    /// The peer issued a session: a copy replaces the upstream's cached one. The original stays OpenSSL's.
    func sessionIssued(_ session: OpaquePointer) {
        _ = tickets?.store(session)
    }

    /// Sends close_notify once, without waiting for the peer's (the socket closes right after).
    func shutdown() {
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
        ERR_clear_error()
    }

    /// Frees the SSL (and its BIO; the socket stays open for the channel to close), and drops any queued ciphertext.
    func free() {
        SSL_free(ssl)
        berth_bio_state_free(bio)
        bio.deallocate()
    }

    /// Ciphertext the BIO queued (the kernel had no room for it), not yet sent.
    var queued: Int { bio.pointee.length }

    /// The errno a failed read or write leaves for the channel's owner, from SSL_get_error's answer `code`.
    func errnoFor(_ code: Int32) -> Int32 {
        switch code {
        case SSL_ERROR_ZERO_RETURN:
            ERR_clear_error()
            return EPIPE
        case SSL_ERROR_SYSCALL:
            let e = berth_tls_errno()
            ERR_clear_error()
            return e == 0 ? ECONNRESET : e
        default:
            ERR_clear_error()
            return EPROTO
        }
    }

    /// How a handshake that ended with SSL_get_error's `code` failed, and why in OpenSSL's words.
    func failure(_ code: Int32) -> TLSFailure {
        let verdict = SSL_get_verify_result(ssl)
        if verifies && verdict != X509_V_OK {
            ERR_clear_error()
            let reason = String(cString: X509_verify_cert_error_string(verdict))
            let mismatch = verdict == X509_V_ERR_HOSTNAME_MISMATCH || verdict == X509_V_ERR_IP_ADDRESS_MISMATCH
            return TLSFailure(kind: mismatch ? .hostnameMismatch : .untrustedCertificate, detail: "certificate verify failed: \(reason)")
        }
        switch code {
        case SSL_ERROR_SYSCALL:
            let e = berth_tls_errno()
            ERR_clear_error()
            let what = e == 0 ? "the peer closed the connection" : String(cString: strerror(e))
            return TLSFailure(kind: .handshakeFailed, detail: "\(what) during the handshake")
        case SSL_ERROR_ZERO_RETURN:
            ERR_clear_error()
            return TLSFailure(kind: .handshakeFailed, detail: "the peer closed the connection during the handshake")
        default:
            return TLSFailure(kind: .handshakeFailed, detail: TLSErrors.drain())
        }
    }
}

