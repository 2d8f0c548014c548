// The kinds of value a setting takes (duration, count, bool, choice, address, list...): how each is read and printed.

/// How a setting is given on the command line: `--name V`, `--name V1 V2 ...`, or `--name`/`--no-name`.
public enum FlagShape: Hashable, Sendable {
    case value, list, toggle
}

/// One kind of value: its text parser (with its bounds), its YAML spelling and its startup-log spelling.
/// `parse(yaml(v))` gives back `v`, which is what makes `check-config` output a valid configuration file.
struct ValueKind<Value> {
    /// The placeholder shown in `--help`, e.g. `duration`.
    var valueName: String
    var shape: FlagShape
    /// The value the texts denote; a list kind gets each item, any other kind exactly one text.
    var parse: ([String]) throws(ValueProblem) -> Value
    /// A YAML scalar or flow sequence.
    var yaml: (Value) -> String
    /// Plain text for a log field: nothing quoted, list items joined by commas.
    var log: (Value) -> String

    /// A single-valued kind from the parser of its one text.
    static func scalar(
        _ valueName: String, shape: FlagShape = .value, parse: @escaping (String) throws(ValueProblem) -> Value,
        yaml: @escaping (Value) -> String, log: @escaping (Value) -> String
    ) -> ValueKind {
        ValueKind(valueName: valueName, shape: shape, parse: { texts throws(ValueProblem) in
            guard texts.count == 1, let text = texts.first else { throw ValueProblem("takes one value, not a list") }
            return try parse(text)
        }, yaml: yaml, log: log)
    }

    /// Several values of a single-valued kind; an empty list is allowed.
    static func list<Element>(_ element: ValueKind<Element>) -> ValueKind where Value == [Element] {
        ValueKind(
            valueName: element.valueName, shape: .list,
            parse: { texts throws(ValueProblem) in try texts.map { text throws(ValueProblem) in try element.parse([text]) } },
            yaml: { "[" + $0.map(element.yaml).joined(separator: ", ") + "]" },
            log: { $0.map(element.log).joined(separator: ",") })
    }
}

extension ValueKind where Value == Duration {
    /// `125ms`, `1.5s`, `5m`, `1h`: finite, positive, at most a day.
    static var duration: ValueKind {
        .scalar("duration", parse: DurationSyntax.parse, yaml: DurationSyntax.format, log: DurationSyntax.format)
    }
}

extension ValueKind where Value == Int {
    /// A whole number of at least 1, and within `bounds` when given.
    static func count(in bounds: ClosedRange<Int>? = nil) -> ValueKind {
        .scalar("n", parse: { text throws(ValueProblem) in
            guard text.isASCIIDigits, let value = Int(text) else { throw ValueProblem("\"\(text)\" is not a whole number") }
            guard value > 0 else { throw ValueProblem("\"\(text)\" must be at least 1") }
            if let bounds, !bounds.contains(value) {
                throw ValueProblem("\"\(text)\" is out of range (\(bounds.lowerBound) to \(bounds.upperBound))")
            }
            return value
        }, yaml: String.init, log: String.init)
    }

    /// A size in bytes: `65536`, `64KiB`, `16MiB` (also `KB`/`MB`, read as powers of two), within `bounds`.
    static func size(in bounds: ClosedRange<Int>) -> ValueKind {
        .scalar("size", parse: { text throws(ValueProblem) in
            let units: [(String, Int)] = [("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("KB", 1 << 10), ("MB", 1 << 20), ("GB", 1 << 30)]
            var digits = Substring(text)
            var scale = 1
            for (suffix, factor) in units where text.hasSuffix(suffix) {
                digits = text.dropLast(suffix.count)
                scale = factor
                break
            }
            guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber), let n = Int(digits),
                  n.multipliedReportingOverflow(by: scale).overflow == false else {
                throw ValueProblem("\"\(text)\" is not a size (write 65536, 64KiB or 16MiB)")
            }
            let value = n * scale
            guard bounds.contains(value) else {
                throw ValueProblem("\"\(text)\" is out of range (\(bounds.lowerBound) to \(bounds.upperBound) bytes)")
            }
            return value
        }, yaml: sizeText, log: sizeText)
    }

    /// The shortest exact spelling of a size.
    private static func sizeText(_ n: Int) -> String {
        if n >= 1 << 20 && n % (1 << 20) == 0 { return "\(n >> 20)MiB" }
        if n >= 1 << 10 && n % (1 << 10) == 0 { return "\(n >> 10)KiB" }
        return String(n)
    }

    /// A TCP port a connection may go to.
    static var port: ValueKind {
        .scalar("port", parse: { text throws(ValueProblem) in
            guard text.isASCIIDigits, let value = Int(text), (1...65535).contains(value) else {
                throw ValueProblem("\"\(text)\" is not a port (1 to 65535)")
            }
            return value
        }, yaml: String.init, log: String.init)
    }
}

extension ValueKind where Value == Bool {
    /// `true`/`false`, also `yes`/`no`, `on`/`off` and `1`/`0`, since YAML 1.1 users write those; `--name BOOL`.
    static var bool: ValueKind { boolean(shape: .value) }

    /// A boolean whose flag is a switch, `--name` or `--no-name`; variables and files still write true or false.
    static var toggle: ValueKind { boolean(shape: .toggle) }

    /// The boolean parser shared by both flag shapes.
    private static func boolean(shape: FlagShape) -> ValueKind {
        .scalar("bool", shape: shape, parse: { text throws(ValueProblem) in
            switch text.lowercased() {
            case "true", "yes", "on", "1": return true
            case "false", "no", "off", "0": return false
            default: throw ValueProblem("\"\(text)\" is not true or false")
            }
        }, yaml: { String($0) }, log: { String($0) })
    }
}

extension ValueKind where Value == String {
    /// Any text, such as a profile name; the loader checks what it means.
    static func word(_ valueName: String) -> ValueKind {
        .scalar(valueName, parse: { $0 }, yaml: \.yamlQuoted, log: { $0 })
    }
}

extension ValueKind where Value == String? {
    /// Free text where the empty string means none, e.g. a file name or a header value.
    static func optionalText(_ valueName: String) -> ValueKind {
        .scalar(valueName, parse: { $0.isEmpty ? nil : $0 }, yaml: { ($0 ?? "").yamlQuoted }, log: { $0 ?? "" })
    }

    /// `optionalText` that berth writes into a header field as it is (`via`): no control character but HTAB, since
    /// a CR or LF would add a field of its own to every forwarded request (adv12), and a NUL or DEL ends or splits
    /// heads in other parsers. The value is not echoed: its control characters would reach the terminal or the log.
    static func optionalFieldValue(_ valueName: String) -> ValueKind {
        .scalar(valueName, parse: { text throws(ValueProblem) in
            if text.isEmpty { return nil }
            for (offset, c) in text.unicodeScalars.enumerated() where (c.value < 0x20 && c != "\t") || c.value == 0x7F {
                let hex = String(c.value, radix: 16, uppercase: true)
                throw ValueProblem("holds a control character (U+\(String(repeating: "0", count: 4 - hex.count) + hex) at "
                    + "character \(offset + 1)), which a header field value cannot; write visible characters and spaces, "
                    + "as in 1.1 berth")
            }
            return text
        }, yaml: { ($0 ?? "").yamlQuoted }, log: { $0 ?? "" })
    }
}

extension ValueKind where Value == String {
    /// An absolute directory path, without trailing slashes (a cgroup directory); the watch checks what is there.
    static var cgroupDirectory: ValueKind {
        .scalar("dir", parse: { text throws(ValueProblem) in
            var path = Substring(text)
            while path.count > 1, path.hasSuffix("/") { path = path.dropLast() }
            guard path.hasPrefix("/"), path.count > 1 else {
                throw ValueProblem("\"\(text)\" is not an absolute path to a cgroup directory, such as /sys/fs/cgroup/system.slice/docker-ID.scope")
            }
            return String(path)
        }, yaml: \.yamlQuoted, log: { $0 })
    }
}

extension ValueKind where Value == ListenAddress {
    /// `HOST:PORT` or `unix:/path` to listen on.
    static var address: ValueKind {
        .scalar("host:port|unix:path", parse: ListenAddress.parse, yaml: \.description.yamlQuoted, log: \.description)
    }
}

extension ValueKind where Value == UInt32 {
    /// A file's permission bits in octal, as chmod takes them: `0660`, `660`; at most 0777.
    static var fileMode: ValueKind {
        .scalar("mode", parse: { text throws(ValueProblem) in
            let digits = text.hasPrefix("0o") ? text.dropFirst(2) : text.hasPrefix("0") && text.count == 4 ? text.dropFirst() : Substring(text)
            guard digits.count == 3, digits.allSatisfy({ ("0"..."7").contains($0) }), let mode = UInt32(digits, radix: 8) else {
                throw ValueProblem("\"\(text)\" is not a file mode (write three octal digits such as 0660 or 0600)")
            }
            return mode
        }, yaml: { octal($0).yamlQuoted }, log: octal)
    }

    /// `0660` for 0o660.
    private static func octal(_ mode: UInt32) -> String {
        let digits = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}

extension ValueKind where Value == SocketOwner? {
    /// chown's `USER`, `USER:GROUP` or `:GROUP` (names or numbers); the empty string means none.
    static var socketOwner: ValueKind {
        .scalar("user:group", parse: { text throws(ValueProblem) in text.isEmpty ? nil : try SocketOwner.parse(text) },
                yaml: { ($0?.description ?? "").yamlQuoted }, log: { $0?.description ?? "" })
    }
}

extension ValueKind where Value == String {
    /// An absolute path to a Unix socket, within the kernel's length.
    static var unixSocketPath: ValueKind {
        .scalar("path", parse: UnixSocketPath.validate, yaml: \.yamlQuoted, log: { $0 })
    }
}

extension ValueKind where Value == String {
    /// A DNS host name, lowercased and without a trailing dot.
    static var hostName: ValueKind {
        .scalar("host", parse: { text throws(ValueProblem) in
            do throws(ValueProblem) {
                return try HostName.normalize(text)
            } catch {
                throw ValueProblem("\"\(text)\" is not a host name")
            }
        }, yaml: \.yamlQuoted, log: { $0 })
    }
}

extension ValueKind where Value == AllowRule {
    /// A CIDR block, an address, a host name or `*.domain`.
    static var allowRule: ValueKind {
        .scalar("cidr-or-host", parse: AllowRule.parse, yaml: \.description.yamlQuoted, log: \.description)
    }
}

extension ValueKind where Value == Int? {
    /// A whole number of at least 1, or `auto` (nil): berth works the value out when it starts.
    static var countOrAuto: ValueKind {
        let count = ValueKind<Int>.count()
        return .scalar("n|auto", parse: { text throws(ValueProblem) in
            text.lowercased() == "auto" ? nil : try count.parse([text])
        }, yaml: { $0.map(String.init) ?? "auto" }, log: { $0.map(String.init) ?? "auto" })
    }
}

extension ValueKind where Value: CaseIterable & RawRepresentable, Value.RawValue == String {
    /// One of an enumeration's cases by name, without case; `noun` names the kind in errors ("a log format").
    static func choice(_ noun: String, valueName: String? = nil) -> ValueKind {
        let names = Value.allCases.map(\.rawValue)
        let spelled = names.dropLast().joined(separator: ", ") + (names.count > 1 ? " or " : "") + (names.last ?? "")
        return .scalar(valueName ?? names.joined(separator: "|"), parse: { text throws(ValueProblem) in
            guard let value = Value(rawValue: text.lowercased()) else {
                throw ValueProblem("\"\(text)\" is not \(noun) (write \(spelled))")
            }
            return value
        }, yaml: \.rawValue, log: \.rawValue)
    }
}

extension StringProtocol {
    /// Non-empty and only 0-9: `Int(_:)` alone would also take a sign, and `isNumber` takes other scripts' digits.
    var isASCIIDigits: Bool { !isEmpty && allSatisfy { $0.isASCII && $0.isNumber } }
}

extension String {
    /// The string as a YAML scalar: plain when that reads back unchanged, double-quoted otherwise.
    var yamlQuoted: String {
        let plainSafe = !isEmpty && allSatisfy { $0.isLetter || $0.isNumber || "._/-".contains($0) }
            && !["true", "false", "yes", "no", "on", "off", "null", "~"].contains(lowercased())
            && Int(self) == nil && Double(self) == nil
        if plainSafe { return self }
        var escaped = ""
        for character in self {
            switch character {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            default: escaped.append(character)
            }
        }
        return "\"\(escaped)\""
    }
}
