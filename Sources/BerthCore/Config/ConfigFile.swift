// Reading a YAML configuration file into a layer, with the line of every key kept for error messages.
import Yams

/// The YAML file format: the flag names as keys, plus `destinations`.
enum ConfigFile {
    /// The keys one destination override may set besides `match`: those the key table gives a per-destination field.
    static var destinationKeys: [String: DestinationField] {
        Dictionary(uniqueKeysWithValues: ConfigKey.allCases.compactMap { key in key.definition.destination.map { (key.name, $0) } })
    }

    /// The layer `text` describes; `path` is only used to name the file in errors.
    static func parse(_ text: String, path: String) throws(ConfigError) -> ConfigLayer {
        // Yams composes recursively, a level of the stack per level of nesting: bounded first, without recursion.
        try YAMLDepth.check(text, path: path)
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw ConfigError(describe(error, path: path))
        } catch {
            throw ConfigError("\(path): \(error)")
        }
        var layer = ConfigLayer()
        // No document, or a null one (empty, blank, only comments, `---`): most often a file caught between its truncation and its
        // rewrite (a config tool, a shell's `>`), which a reload would apply as "every setting at its default",
        // `allow` opened to any destination included (adv12). `{}` is a file that means no settings.
        guard let root, root.null == nil else {
            throw ConfigError("\(path): the file holds no settings (it is empty or only comments); a file being "
                + "rewritten reads so, and berth will not take it for every default: write {} for a file with none")
        }
        guard let mapping = root.mapping else {
            throw ConfigError("\(path):\(line(root)): the file must be a mapping of settings, e.g. `profile: same-region`")
        }
        var seen: [String: Int] = [:]
        for (keyNode, value) in mapping {
            let origin = ConfigOrigin.file(path: path, line: line(keyNode))
            guard let name = keyNode.scalar?.string else {
                throw ConfigError("\(path):\(line(keyNode)): keys must be plain names")
            }
            if let first = seen[name] { throw origin.error(name, "appears twice (first on line \(first))") }
            seen[name] = line(keyNode)
            if name == "destinations" {
                (layer.destinations, layer.destinationOrigins) = try destinations(value, path: path, origin: origin)
                continue
            }
            guard let key = ConfigKey(rawValue: name), key.definition.inFile else {
                throw origin.error(name, unknownKeyProblem(name))
            }
            layer.settings[key] = ConfigLayer.Setting(values: try scalars(value, key: key, origin: origin), origin: origin)
        }
        return layer
    }

    /// The text values of a scalar or a sequence of scalars; YAML null is the empty string or the empty list.
    private static func scalars(_ node: Node, key: ConfigKey, origin: ConfigOrigin) throws(ConfigError) -> [String] {
        switch node {
        case .scalar(let scalar):
            if node.null != nil { return key.isList ? [] : [""] }
            return key.isList ? ConfigLayer.splitList([scalar.string]) : [scalar.string]
        case .sequence(let sequence) where key.isList:
            return try sequence.map { element throws(ConfigError) in
                guard let text = element.scalar?.string else {
                    throw origin.error(key.name, "list items must be plain values")
                }
                return text
            }
        default:
            throw origin.error(key.name, key.isList ? "must be a list, e.g. [a, b]" : "takes one value, not a list or mapping")
        }
    }

    /// The `destinations` list: mappings with `match` and any of the per-destination keys; with each entry, where
    /// each of its fields was written (`tls.ca-file` for one inside a mapping), for the checks that come later.
    private static func destinations(_ node: Node, path: String, origin: ConfigOrigin) throws(ConfigError)
        -> ([DestinationOverride], [[String: ConfigOrigin]]) {
        if node.null != nil { return ([], []) }
        guard let sequence = node.sequence else {
            throw origin.error("destinations", "must be a list of {match: ..., socket-timeout: ...} entries")
        }
        var origins: [[String: ConfigOrigin]] = []
        // Each match's first entry: only it can ever apply, so a second one is refused rather than silently dead.
        var firstMatch: [String: (index: Int, line: Int)] = [:]
        let overrides = try sequence.enumerated().map { index, entry throws(ConfigError) in
            let entryOrigin = ConfigOrigin.file(path: path, line: line(entry))
            let label = "destinations[\(index)]"
            guard let fields = entry.mapping else {
                throw entryOrigin.error(label, "must be a mapping such as {match: \"10.0.0.5:8080\", socket-timeout: 30s}")
            }
            var match: String?
            var override = DestinationOverride(match: "")
            var written: [String: ConfigOrigin] = [:]
            let fieldsByName = destinationKeys
            for (keyNode, value) in fields {
                let fieldOrigin = ConfigOrigin.file(path: path, line: line(keyNode))
                let name = keyNode.scalar?.string ?? "?"
                let fieldLabel = "\(label).\(name)"
                let field = fieldsByName[name]
                guard name == "match" || field != nil else {
                    let known = (["match"] + fieldsByName.keys).sorted().joined(separator: ", ")
                    throw fieldOrigin.error(fieldLabel, "unknown key (a destination may set \(known))")
                }
                // As at the top level: YAML would let the last one win unseen.
                if case .file(_, let first)? = written[name] {
                    throw fieldOrigin.error(fieldLabel, "appears twice (first on line \(first))")
                }
                let given = try destinationValue(value, origin: fieldOrigin, label: fieldLabel)
                written[name] = fieldOrigin
                if case .mapping(let entries) = given {
                    for e in entries { written["\(name).\(e.name)"] = .file(path: path, line: e.line) }
                }
                do throws(ValueProblem) {
                    if let field {
                        try field.apply(&override, given)
                    } else {
                        guard case .scalar(let text) = given else { throw ValueProblem("takes one value") }
                        match = try DestinationOverride.normalizeMatch(text)
                    }
                } catch {
                    guard let entry = error.entry else { throw fieldOrigin.error(fieldLabel, error.message) }
                    throw ConfigOrigin.file(path: path, line: entry.line).error("\(fieldLabel).\(entry.name)", error.message)
                }
            }
            guard let match else { throw entryOrigin.error(label, "needs a match: host, host:port or CIDR block") }
            if let first = firstMatch[match] {
                throw (written["match"] ?? entryOrigin).error("\(label).match", "\"\(match)\" is also the match of "
                    + "destinations[\(first.index)] (line \(first.line)); only the first entry that matches an upstream "
                    + "applies, so write this entry's settings into that one")
            }
            if case .file(_, let matchLine)? = written["match"] { firstMatch[match] = (index, matchLine) }
            override.match = match
            origins.append(written)
            return override
        }
        return (overrides, origins)
    }

    /// A destination field's value: a scalar, or a mapping of scalars (which only `tls` takes).
    private static func destinationValue(_ value: Node, origin: ConfigOrigin, label: String) throws(ConfigError) -> DestinationValue {
        if let text = value.scalar?.string, value.null == nil { return .scalar(text) }
        guard let mapping = value.mapping else { throw origin.error(label, "takes one value") }
        var entries: [(name: String, text: String, line: Int)] = []
        for (keyNode, entryValue) in mapping {
            let name = keyNode.scalar?.string ?? "?"
            guard let text = entryValue.scalar?.string, entryValue.null == nil else {
                throw ConfigOrigin.file(path: originPath(origin), line: line(keyNode)).error("\(label).\(name)", "takes one value")
            }
            entries.append((name, text, line(keyNode)))
        }
        return .mapping(entries)
    }

    /// The file an origin names.
    private static func originPath(_ origin: ConfigOrigin) -> String {
        if case .file(let path, _) = origin { return path }
        return ""
    }

    /// The problem text for a key berth does not know, with the likely intended key when there is one.
    private static func unknownKeyProblem(_ name: String) -> String {
        if let key = ConfigKey(rawValue: name), !key.definition.topLevel { return KeyDefinition.destinationOnlyProblem.message }
        if let key = ConfigKey(rawValue: name), !key.definition.inFile { return "cannot be set inside a configuration file" }
        let kebab = String(name.lowercased().map { $0 == "_" ? "-" : $0 })
        if let key = ConfigKey(rawValue: kebab), key.definition.inFile { return "unknown key (did you mean \(key.name)?)" }
        return "unknown key (see docs/configuration.md for the keys)"
    }

    /// The 1-based line and column of the byte at `offset` in `text`.
    private static func position(ofByte offset: Int, in text: String) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        for byte in text.utf8.prefix(offset) {
            if byte == 10 { line += 1; column = 1 } else { column += 1 }
        }
        return (line, column)
    }

    /// The 1-based line a node starts on.
    private static func line(_ node: Node) -> Int { node.mark?.line ?? 1 }

    /// A YAML syntax error as `path:line: problem`.
    private static func describe(_ error: YamlError, path: String) -> String {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return "\(path):\(mark.line): YAML syntax error: \(problem)"
        case .reader(let problem, let offset, let value, let yaml):
            // Yams' own text quotes the whole line: megabytes in one log line from a long one, and whatever the file
            // held (a secret, a /proc file's environment) in the log. The place and the character say enough.
            let hex = String(UInt32(bitPattern: value), radix: 16, uppercase: true)
            let character = "character U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
            guard let offset else { return "\(path): YAML error: \(problem) (\(character))" }
            let (line, column) = position(ofByte: offset, in: yaml)
            return "\(path):\(line): YAML error: \(problem) (\(character) at column \(column))"
        default:
            return "\(path): YAML error: \(error)"
        }
    }
}
