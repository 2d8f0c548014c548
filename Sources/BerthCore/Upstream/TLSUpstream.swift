// What the connections of one TLS pool share: the OpenSSL context, the name they are for and the upstream's session.
import EventLoop

/// A TLS pool's handshake inputs, made with the pool. The session cache lives here, per upstream and per settings,
/// so a session issued under one server name or client certificate is only ever offered under the same ones, and
/// it outlives every connection: the reconnects after a /pause or an idle close resume it.
final class TLSUpstream {
    /// The pool's settings as a context, or why they could not become one (a file gone since check-config): then
    /// every connect fails as a handshake failure, with the reason in the log. Replaced by a reload (a rotated CA
    /// or client certificate), for the connections made from then on.
    private(set) var context: Result<TLSClientContext, TLSSettingsProblem>
    /// The SNI and the name checked against the certificate.
    let peerName: String
    let tickets = TLSTicketCache()

    /// The inputs for connections to `key` (a TLS key), with its context from `contexts`.
    init(key: PoolKey, contexts: TLSContexts) {
        peerName = key.peerName
        context = Self.context(for: key, from: contexts)
    }

    /// Takes the context from a reloaded set, and forgets the session: it was made under the old context, whose
    /// trust or client certificate the reload may have changed (the files are read again, so the same settings can
    /// mean another CA), and a resumed handshake checks no certificate. The next connection verifies in full.
    func refresh(key: PoolKey, from contexts: TLSContexts) {
        context = Self.context(for: key, from: contexts)
        tickets.clear()
    }

    private static func context(for key: PoolKey, from contexts: TLSContexts) -> Result<TLSClientContext, TLSSettingsProblem> {
        guard let settings = key.tls else { return .failure(TLSSettingsProblem(entry: "tls", message: "\(key) is not a TLS pool")) }
        do {
            return .success(try contexts.context(for: settings))
        } catch {
            return .failure(error)
        }
    }

    /// What `Channel.connect` takes, or the problem that stops every connect.
    func setup() throws(TLSSettingsProblem) -> TLSClientSetup {
        TLSClientSetup(context: try context.get(), peerName: peerName, tickets: tickets)
    }
}
