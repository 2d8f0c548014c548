// The OpenSSL client contexts that berth's TLS settings make, built from the files they name and shared by the workers.
import EventLoop

/// A TLS setting that could not be put into effect: the entry at fault (`ca-file`, `client-cert`, `client-key`) and why.
struct TLSSettingsProblem: Error, CustomStringConvertible {
    var entry: String
    var message: String
    var description: String { "\(entry): \(message)" }
}

/// One context per distinct trust, client certificate and minimum version, made on first use and kept. Contexts
/// are immutable and OpenSSL lets threads share one, so all workers' connections with the same settings use it.
/// A reload makes a new set, so that rotated files are read again.
///
/// # Concurrency note
/// Workers reach it from their own threads when a pool is created (not per connection: the pool keeps its context);
/// the lock covers the table only, and two workers making the same context at once keep the first one made.
final class TLSContexts: @unchecked Sendable {
    private let readFile: ConfigurationLoader.FileReader
    private let made = ThreadLock<[TLSSettings: TLSClientContext]>([:])

    /// Contexts whose files are read with `readFile`.
    init(readFile: @escaping ConfigurationLoader.FileReader = ConfigurationLoader.readFromDisk) {
        self.readFile = readFile
    }

    /// The context for `settings` (their server name plays no part: each connection sets its own).
    func context(for settings: TLSSettings) throws(TLSSettingsProblem) -> TLSClientContext {
        let identity = settings.contextIdentity
        if let known = made.withLock({ $0[identity] }) { return known }
        let fresh = try Self.make(identity, readFile: readFile)
        return made.withLock { table in
            if let first = table[identity] { return first }
            table[identity] = fresh
            return fresh
        }
    }

    /// Makes the context `settings` describe, as check-config and the server both do.
    static func make(_ settings: TLSSettings, readFile: ConfigurationLoader.FileReader) throws(TLSSettingsProblem) -> TLSClientContext {
        func read(_ path: String?, _ entry: String) throws(TLSSettingsProblem) -> String? {
            guard let path else { return nil }
            do {
                return try readFile(path)
            } catch {
                throw TLSSettingsProblem(entry: entry, message: "cannot read \(path): \(error)")
            }
        }
        let ca = try read(settings.caFile, "ca-file")
        let certificate = try read(settings.clientCert, "client-cert")
        let key = try read(settings.clientKey, "client-key")
        do {
            return try TLSClientContext(verify: settings.verify, trust: ca.map { .pem($0) } ?? .system, certificate: certificate,
                                        key: key, minimum: settings.minVersion == .v1_3 ? .tls13 : .tls12)
        } catch {
            switch error.part {
            case .trust: throw TLSSettingsProblem(entry: "ca-file", message: "\(settings.caFile ?? "the system store") \(error.message)")
            case .certificate: throw TLSSettingsProblem(entry: "client-cert", message: "\(settings.clientCert ?? "") \(error.message)")
            case .key: throw TLSSettingsProblem(entry: "client-key", message: "\(settings.clientKey ?? "") \(error.message)")
            case .library: throw TLSSettingsProblem(entry: "tls", message: error.message)
            }
        }
    }

    /// Checks that `settings` make a context, without keeping it (check-config and the loader).
    static func check(_ settings: TLSSettings, readFile: ConfigurationLoader.FileReader) throws(TLSSettingsProblem) {
        _ = try make(settings, readFile: readFile)
    }
}
