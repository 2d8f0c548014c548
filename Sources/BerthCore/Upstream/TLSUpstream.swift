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
    /// The session to resume, for the connections made under the current context. A reload gives the pool a new one
    /// rather than emptying this: a connection made before it (a handshake under way, a TLS 1.3 ticket read later)
    /// still holds this one, and what the old trust accepted must never reach the new one's connections.
    private(set) var tickets = TLSTicketCache()

    /// The inputs for connections to `key` (a TLS key), with its context from `contexts`.
    init(key: PoolKey, contexts: TLSContexts) {
        peerName = key.peerName
        context = Self.context(for: key, from: contexts)
    }

    /// Takes the context from a reloaded set, and forgets the session: it was made under the old context, whose
    /// trust or client certificate the reload may have changed (the files are read again, so the same settings can
    /// mean another CA), and a resumed handshake checks no certificate. The next connection verifies in full. A new
    /// cache, not the old one emptied: a handshake begun under the old context that ends after the reload stores
    /// its session in the cache it was made with (review15: cleared in place, that session was the next one offered).
    func refresh(key: PoolKey, from contexts: TLSContexts) {
        context = Self.context(for: key, from: contexts)
        tickets = TLSTicketCache()
    }

    /// Forgets the session at a VM restore: every clone of one snapshot woke holding it, so each would offer the same
    /// ticket (the origin could link the clones, and secrets from before the snapshot would be resumed in all of
    /// them). A new cache, as a reload gives, so a handshake still under way keeps the old one to itself.
    func forgetSession() {
        tickets = TLSTicketCache()
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
