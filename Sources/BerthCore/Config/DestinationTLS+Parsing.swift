// A destination's `tls` entry: `true`, `false`, or `{verify, ca-file, server-name, client-cert, client-key, min-version}`.

extension DestinationTLS {
    /// The per-destination field of the `tls` key (ConfigKey.swift), read and printed here.
    static var field: DestinationField {
        DestinationField(
            apply: { override, value throws(ValueProblem) in override.tls = try parse(value) },
            yaml: { override in override.tls.map(yaml) })
    }

    /// One setting of the mapping: its name, how its text is read, and its YAML when it differs from the default.
    struct Entry: Sendable {
        let name: String
        let read: @Sendable (inout TLSSettings, String) throws(ValueProblem) -> Void
        let show: @Sendable (TLSSettings) -> String?
    }

    /// The mapping's settings, in the order check-config prints them: the one list of them.
    static let entries: [Entry] = [
        Entry(name: "verify", read: { s, text throws(ValueProblem) in s.verify = try ValueKind<Bool>.bool.parse([text]) },
              show: { $0.verify ? nil : "false" }),
        Entry(name: "ca-file", read: { s, text throws(ValueProblem) in s.caFile = try path(text) }, show: { $0.caFile?.yamlQuoted }),
        Entry(name: "server-name", read: { s, text throws(ValueProblem) in s.serverName = try serverName(text) },
              show: { $0.serverName?.yamlQuoted }),
        Entry(name: "client-cert", read: { s, text throws(ValueProblem) in s.clientCert = try path(text) },
              show: { $0.clientCert?.yamlQuoted }),
        Entry(name: "client-key", read: { s, text throws(ValueProblem) in s.clientKey = try path(text) },
              show: { $0.clientKey?.yamlQuoted }),
        Entry(name: "min-version", read: { s, text throws(ValueProblem) in
            s.minVersion = try ValueKind<TLSVersion>.choice("a TLS version").parse([text])
        }, show: { $0.minVersion == .v1_2 ? nil : $0.minVersion.rawValue.yamlQuoted }),
    ]

    /// `true` / `false`, or the mapping, whose every entry is checked (and a problem names the entry's line).
    static func parse(_ value: DestinationValue) throws(ValueProblem) -> DestinationTLS {
        switch value {
        case .scalar(let text):
            do {
                return try ValueKind<Bool>.bool.parse([text]) ? .on(TLSSettings()) : .off
            } catch {
                throw ValueProblem("\"\(text)\" is not true, false or a mapping of \(names)")
            }
        case .mapping(let given):
            var settings = TLSSettings()
            var seen: [String: Int] = [:]
            for (name, text, line) in given {
                guard let entry = entries.first(where: { $0.name == name }) else {
                    throw ValueProblem("unknown key (tls may set \(names))", entry: (name, line))
                }
                if let first = seen[name] { throw ValueProblem("appears twice (first on line \(first))", entry: (name, line)) }
                seen[name] = line
                do {
                    try entry.read(&settings, text)
                } catch {
                    throw ValueProblem(error.message, entry: (name, line))
                }
            }
            // A certificate without its key (or the reverse) cannot be sent: said here, with the line, not at the first handshake.
            if (settings.clientCert == nil) != (settings.clientKey == nil) {
                let (present, missing) = settings.clientCert != nil ? ("client-cert", "client-key") : ("client-key", "client-cert")
                throw ValueProblem("needs \(missing) as well", entry: (present, seen[present] ?? 0))
            }
            return .on(settings)
        }
    }

    /// `false`, `true`, or a flow mapping of the settings that differ from the defaults; read back by `parse`.
    static func yaml(_ tls: DestinationTLS) -> String {
        guard case .on(let settings) = tls else { return "false" }
        let shown = entries.compactMap { entry in entry.show(settings).map { "\(entry.name): \($0)" } }
        return shown.isEmpty ? "true" : "{" + shown.joined(separator: ", ") + "}"
    }

    /// The mapping's keys, for problems.
    private static var names: String { entries.map(\.name).joined(separator: ", ") }

    /// A file name; the loader reads it, so that a missing or unreadable file is reported with this line.
    private static func path(_ text: String) throws(ValueProblem) -> String {
        guard !text.isEmpty else { throw ValueProblem("needs a file name") }
        return text
    }

    /// A host name or an IP address, lowercased.
    private static func serverName(_ text: String) throws(ValueProblem) -> String {
        if IPAddressLiteral.bytes(text) != nil { return text.lowercased() }
        do {
            return try HostName.normalize(text)
        } catch {
            throw ValueProblem("\"\(text)\" is not a host name or an IP address")
        }
    }
}
