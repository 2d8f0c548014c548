// TLS to an upstream as the configuration states it: per destination on or off, and the settings of a TLS one.

/// The oldest TLS version berth accepts from an upstream; nothing below 1.2 is offered.
public enum TLSVersion: String, CaseIterable, Hashable, Sendable {
    case v1_2 = "1.2"
    case v1_3 = "1.3"
}

/// How berth speaks TLS to one upstream. The defaults are the safe ones: verified against the system store, the
/// destination's own name as SNI and as the name the certificate must carry, TLS 1.2 at the least.
public struct TLSSettings: Hashable, Sendable {
    /// Whether the certificate chain and the host name are checked; off must be written out, and is warned about.
    public var verify = true
    /// A PEM file of the CAs to trust, instead of the system store.
    public var caFile: String?
    /// The SNI and the name the certificate must carry, instead of the destination's host.
    public var serverName: String?
    /// A PEM file with the client certificate (and its chain, leaf first), for upstreams that ask for one.
    public var clientCert: String?
    /// The client certificate's private key (PEM, unencrypted).
    public var clientKey: String?
    /// The oldest version accepted.
    public var minVersion = TLSVersion.v1_2

    /// The defaults.
    public init() {}

    /// The settings that make an OpenSSL context (all but the name, which each connection sets): connections to
    /// different names with the same trust and client certificate share one context.
    var contextIdentity: TLSSettings {
        var copy = self
        copy.serverName = nil
        return copy
    }
}

/// What a destination entry says about TLS.
public enum DestinationTLS: Hashable, Sendable {
    /// `tls: false`: plain, even when the global `tls` is on.
    case off
    /// `tls: true` (the defaults) or `tls: {...}`.
    case on(TLSSettings)
}
