// One row of the key table, its value type erased so that rows of every kind sit in one table.

/// Where a key's value comes from when no source sets it.
enum DefaultValue<Value> {
    /// A fixed value.
    case value(Value)
    /// The chosen profile's value.
    case profile(KeyPath<TimeoutProfile, Value>)
    /// No default: resolution stops without the key. The chosen profile's field is what it resolved to.
    case required(KeyPath<TimeoutProfile, Value>)
}

/// How `check-config` prints a key.
enum Rendering: Hashable {
    /// `name: value`, which the file parser reads back.
    case key
    /// `# name: value`: shown, but a file cannot set it.
    case comment
    /// Nothing of its own: a deprecated alias shows up as the key it sets.
    case viaTarget
    /// Only inside the destinations it is set for.
    case inDestinations
}

/// Everything about one key except its name, which is the `ConfigKey` raw value. Built by `setting` or `alias`.
struct KeyDefinition {
    var summary: String
    var valueName: String
    var shape: FlagShape
    /// `(default: 4s)`, `(default: from the profile)`, or empty for a required key.
    var defaultNote: String
    /// Whether a YAML file may set it; `config` cannot, since a file cannot name the file.
    var inFile: Bool
    /// Whether it is a setting of its own, with a flag, a variable and a top-level YAML key; false for a key only a
    /// destination entry sets (`unix`).
    var topLevel = true
    var rendering: Rendering
    /// The startup log field, when it is not the name in snake_case.
    var logField: String?
    /// When that key is set and this one is not, this one takes its value (acquire-timeout follows connect-timeout).
    var follows: ConfigKey?
    /// For a deprecated alias, the key whose value it sets.
    var aliasOf: ConfigKey?
    /// A value as written after the flag, different from the default; the round-trip tests set every key to it.
    var example: [String]
    /// Parses texts and stores the value in the configuration.
    let apply: (inout BerthConfiguration, [String]) throws(ValueProblem) -> Void
    /// Stores the default, from the profile where the key has none of its own.
    let reset: (inout BerthConfiguration, TimeoutProfile) -> Void
    /// The stored value as YAML and as a log field; nil for an alias, which has no field of its own.
    let yaml: ((BerthConfiguration) -> String)?
    let log: ((BerthConfiguration) -> String)?
    /// The same setting for one destination in the file's `destinations` list, when it has one.
    let destination: DestinationField?
}

/// A value as a destination entry writes it.
enum DestinationValue {
    case scalar(String)
    /// A mapping of scalars, such as `tls: {verify: false}`, each entry with the file line it is on.
    case mapping([(name: String, text: String, line: Int)])
}

/// A key a destination override may set: `socket-timeout`, `max-per-route`, `max-pending`, `tls`...
struct DestinationField {
    let apply: (inout DestinationOverride, DestinationValue) throws(ValueProblem) -> Void
    /// The override's value as YAML, nil when the destination leaves it to the global setting.
    let yaml: (DestinationOverride) -> String?
}

extension KeyDefinition {
    /// A setting stored at `field`, read and printed as `kind`.
    static func setting<Value>(
        _ field: WritableKeyPath<BerthConfiguration, Value>, _ kind: ValueKind<Value>, default initial: DefaultValue<Value>,
        example: [String], _ summary: String,
        perDestination: WritableKeyPath<DestinationOverride, Value?>? = nil, destination: DestinationField? = nil,
        follows: ConfigKey? = nil, logField: String? = nil, inFile: Bool = true
    ) -> KeyDefinition {
        let note: String
        switch initial {
        case .value(let value):
            let text = kind.yaml(value)
            note = "(default: \(text == "".yamlQuoted ? "none" : text))"
        case .profile: note = "(default: from the profile)"
        case .required: note = ""
        }
        return KeyDefinition(
            summary: summary, valueName: kind.valueName, shape: kind.shape, defaultNote: note,
            inFile: inFile, rendering: inFile ? .key : .comment, logField: logField, follows: follows, aliasOf: nil,
            example: example,
            apply: { configuration, texts throws(ValueProblem) in configuration[keyPath: field] = try kind.parse(texts) },
            reset: { configuration, profile in
                switch initial {
                case .value(let value): configuration[keyPath: field] = value
                case .profile(let source), .required(let source): configuration[keyPath: field] = profile[keyPath: source]
                }
            },
            yaml: { kind.yaml($0[keyPath: field]) },
            log: { kind.log($0[keyPath: field]) },
            // A destination's value is read as the global one is, unless the key brings a field of its own (`tls`,
            // whose per-destination form is richer than its global switch).
            destination: destination ?? perDestination.map { slot in
                DestinationField(
                    apply: { override, value throws(ValueProblem) in
                        guard case .scalar(let text) = value else { throw ValueProblem("takes one value") }
                        override[keyPath: slot] = try kind.parse([text])
                    },
                    yaml: { override in override[keyPath: slot].map(kind.yaml) })
            })
    }

    /// A key only an entry of the file's `destinations` sets, stored at `slot` of that destination. It has no flag,
    /// variable, top-level key, default or log field: given anywhere else, it is an error naming where it goes.
    static func destinationOnly<Value>(
        _ slot: WritableKeyPath<DestinationOverride, Value?>, _ kind: ValueKind<Value>, example: [String], _ summary: String
    ) -> KeyDefinition {
        var definition = KeyDefinition(
            summary: summary, valueName: kind.valueName, shape: kind.shape, defaultNote: "",
            inFile: false, rendering: .inDestinations, logField: nil, follows: nil, aliasOf: nil, example: example,
            apply: { _, _ throws(ValueProblem) in throw destinationOnlyProblem },
            reset: { _, _ in }, yaml: nil, log: nil,
            destination: DestinationField(
                apply: { override, value throws(ValueProblem) in
                    guard case .scalar(let text) = value else { throw ValueProblem("takes one value") }
                    override[keyPath: slot] = try kind.parse([text])
                },
                yaml: { override in override[keyPath: slot].map(kind.yaml) }))
        definition.topLevel = false
        return definition
    }

    /// Why a destination-only key cannot be given as a flag, a variable or a top-level key.
    static let destinationOnlyProblem = ValueProblem("is set per destination: write it in an entry of the file's destinations list, next to its match")

    /// A deprecated key kept working: its value, read as `kind` and translated by `meaning`, lands in `target`'s field.
    /// It has no default, no rendering and no log field of its own; the loader warns whenever it is used.
    static func alias<Old, Value>(
        of target: ConfigKey, _ field: WritableKeyPath<BerthConfiguration, Value>, _ kind: ValueKind<Old>,
        meaning: @escaping (Old) -> Value, example: [String], _ summary: String
    ) -> KeyDefinition {
        KeyDefinition(
            summary: summary, valueName: kind.valueName, shape: kind.shape, defaultNote: "",
            inFile: true, rendering: .viaTarget, logField: nil, follows: nil, aliasOf: target, example: example,
            apply: { configuration, texts throws(ValueProblem) in configuration[keyPath: field] = meaning(try kind.parse(texts)) },
            reset: { _, _ in }, yaml: nil, log: nil, destination: nil)
    }
}
