// The checks of destinations' TLS settings that need their files: each is read and turned into a context, as at start.

/// Refuses TLS settings the server could not use, naming the file line of the entry at fault, and warns about the
/// destinations whose certificates would not be checked.
enum TLSValidation {
    /// Throws the first destination whose TLS files are missing, unreadable, not PEM, or a key that does not
    /// match its certificate; returns one warning per destination with `verify: false`.
    static func check(_ configuration: BerthConfiguration, origins: [[String: ConfigOrigin]],
                      readFile: ConfigurationLoader.FileReader) throws(ConfigError) -> [String] {
        var warnings: [String] = []
        for (index, destination) in configuration.destinations.enumerated() {
            guard case .on(let settings) = destination.tls else { continue }
            let written = index < origins.count ? origins[index] : [:]
            let label = "destinations[\(index)].tls"
            do {
                try TLSContexts.check(settings, readFile: readFile)
            } catch {
                let key = error.entry == "tls" ? label : "\(label).\(error.entry)"
                guard let origin = written["tls.\(error.entry)"] ?? written["tls"] else {
                    throw ConfigError("\(key): \(error.message)")
                }
                throw origin.error(key, error.message)
            }
            if !settings.verify {
                let origin = written["tls.verify"] ?? written["tls"]
                let name = origin.map { $0.name(of: "\(label).verify") } ?? "\(label).verify"
                warnings.append("\(name): false: the certificates of \(destination.match) are not checked, so anyone on the path can impersonate it; remove it once the upstream has a certificate berth can verify (ca-file names a private CA)")
            }
        }
        return warnings
    }
}
