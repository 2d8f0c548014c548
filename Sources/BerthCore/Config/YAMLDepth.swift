// How deep a YAML text nests, found with libyaml's own event parser before Yams composes it: the composer recurses once
// per level, so a file nested thousands of levels deep overflowed the stack (a SIGHUP with one killed berth).
import CYaml

/// The nesting bound a configuration file is held to before it is composed.
enum YAMLDepth {
    /// Levels of sequences and mappings a file may nest. berth's deepest setting is four down (the file's mapping,
    /// `destinations`, an entry, its `tls`); 64 leaves room for any YAML a person writes and keeps the composer's
    /// recursion a few dozen kilobytes of stack.
    static let limit = 64

    /// Throws when `text` nests past `limit`, an alias counted as deep as its anchor's node, naming the line.
    /// Iterative: libyaml keeps its own stacks on the heap.
    /// Text libyaml cannot read is left to the composer, whose error message says why.
    static func check(_ text: String, path: String) throws(ConfigError) {
        var bytes = Array(text.utf8)
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return }
        defer { yaml_parser_delete(&parser) }
        var deepestLine: Int?
        bytes.withUnsafeMutableBufferPointer { buffer in
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            // The open sequences and mappings, each with its anchor and how deep its contents go so far; and how
            // deep each anchored node is, so an alias counts as deep as the node it stands for (a chain of anchors,
            // each wrapping an alias of the last, composes far deeper than its events nest: rev21).
            var open: [(anchor: String?, below: Int)] = []
            var anchored: [String: Int] = [:]
            func name(_ p: UnsafeMutablePointer<yaml_char_t>?) -> String? { p.map { String(cString: $0) } }
            func child(ofHeight h: Int) { if !open.isEmpty { open[open.count - 1].below = max(open[open.count - 1].below, h) } }
            var event = yaml_event_t()
            while yaml_parser_parse(&parser, &event) == 1 {
                let type = event.type
                let line = Int(event.start_mark.line) + 1
                var anchor: String?
                switch type {
                case YAML_SEQUENCE_START_EVENT: anchor = name(event.data.sequence_start.anchor)
                case YAML_MAPPING_START_EVENT: anchor = name(event.data.mapping_start.anchor)
                case YAML_ALIAS_EVENT: anchor = name(event.data.alias.anchor)
                default: break
                }
                yaml_event_delete(&event)
                switch type {
                case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                    open.append((anchor, 0))
                    if open.count > limit {
                        deepestLine = line
                        return
                    }
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                    guard let done = open.popLast() else { return }
                    if let a = done.anchor { anchored[a] = done.below + 1 }
                    child(ofHeight: done.below + 1)
                case YAML_ALIAS_EVENT:
                    let h = anchor.flatMap { anchored[$0] } ?? 0
                    if open.count + h > limit {
                        deepestLine = line
                        return
                    }
                    child(ofHeight: h)
                case YAML_STREAM_END_EVENT:
                    return
                default:
                    break
                }
            }
        }
        if let line = deepestLine {
            throw ConfigError("\(path):\(line): nested deeper than \(limit) levels of lists and mappings; a configuration needs at most 4")
        }
    }
}
