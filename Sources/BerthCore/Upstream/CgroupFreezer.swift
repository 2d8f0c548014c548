// A cgroup directory as the freezer watch sees it: which freezer it has, what its state file says, or why it is none.

/// Why a cgroup cannot be watched, as one sentence for the operator (the admin API's 400, a configuration error).
struct FreezerError: Error, Equatable, Sendable {
    var message: String
    /// The process or the system had no descriptor to spare (EMFILE, ENFILE): berth's shortage, not the path's.
    var outOfDescriptors = false
    /// An error saying `message`.
    init(_ message: String, outOfDescriptors: Bool = false) {
        self.message = message
        self.outOfDescriptors = outOfDescriptors
    }
}

/// What one read of a freezer state file says.
struct FreezerReading: Equatable, Sendable {
    /// Frozen, or being frozen (v1's FREEZING): pausing while the kernel is still stopping tasks costs nothing.
    var frozen: Bool
    /// v2 only: whether any process is in the cgroup. A change here explains a notification that changed no freeze.
    var populated: Bool?
}

/// The result of reading a file: its text, its absence, or the system's reason.
enum FileRead: Equatable, Sendable {
    case text(String)
    /// ENOENT, or ENODEV from a file whose cgroup was removed while it was open.
    case missing
    /// The system's sentence; `outOfDescriptors` for EMFILE and ENFILE, a shortage that passes.
    case failed(String, outOfDescriptors: Bool = false)
}

/// The calls the probe makes, so tests can stand in for /sys/fs/cgroup; `CgroupFile.system` asks the kernel.
struct CgroupFS: Sendable {
    /// What a path names.
    enum Entry: Equatable { case directory, other, missing, failed(String) }
    var entry: @Sendable (String) -> Entry
    var read: @Sendable (String) -> FileRead
    /// The path with every symlink in it resolved (nil: leave it as given).
    var resolve: @Sendable (String) -> String? = { _ in nil }
}

/// The freezer of one cgroup directory: cgroup v2's `cgroup.events` (the kernel notifies every change) or cgroup
/// v1's `freezer.state` (no notification: polled).
struct CgroupFreezer: Equatable, Sendable {
    enum Version: Int, Sendable { case v1 = 1, v2 = 2 }

    /// Absolute, without a trailing slash.
    let directory: String
    let version: Version

    /// The file berth reads.
    var stateFile: String { directory + (version == .v2 ? "/cgroup.events" : "/freezer.state") }

    /// v2's `cgroup.freeze` of this cgroup and of each ancestor that has one (the root cgroup has none), nearest
    /// first, as `exists` finds them: 1 from the moment a freeze of that cgroup is asked for, while `cgroup.events`
    /// says `frozen 1` only once every task is frozen (never, while one waits in uninterruptible sleep). A freeze of
    /// an ancestor (a pod's cgroup) freezes this one. v1 has none: FREEZING says it.
    func requestFiles(exists: (String) -> Bool) -> [String] {
        guard version == .v2 else { return [] }
        var out: [String] = []
        var dir = Substring(directory)
        while !dir.isEmpty, exists(dir + "/cgroup.freeze") {
            out.append(dir + "/cgroup.freeze")
            dir = dir[..<(dir.lastIndex(of: "/") ?? dir.startIndex)]
        }
        return out
    }

    /// Whether a freeze is asked for: `cgroup.freeze`'s text. A file that cannot be read asks for nothing (the state
    /// file still tells a finished freeze).
    static func freezeRequested(_ read: FileRead) -> Bool {
        if case .text(let text) = read { return text.hasPrefix("1") }
        return false
    }

    /// The directory the cgroup sits in: its removal shows up there (a removed cgroup's own files report nothing).
    var parent: String {
        let up = directory[..<directory.lastIndex(of: "/")!]
        return up.isEmpty ? "/" : String(up)
    }

    /// The cgroup's own name in `parent`.
    var name: String { String(directory[directory.index(after: directory.lastIndex(of: "/")!)...]) }

    /// What the state file's text says; nil when it is not what the kernel writes.
    func reading(_ text: String) -> FreezerReading? {
        version == .v2 ? Self.parseEvents(text) : Self.parseState(text)
    }

    /// cgroup v2's `cgroup.events`: `populated 0|1` and `frozen 0|1` lines (frozen since Linux 5.2).
    static func parseEvents(_ text: String) -> FreezerReading? {
        var frozen: Bool?
        var populated: Bool?
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ")
            guard words.count == 2, words[1] == "0" || words[1] == "1" else { continue }
            if words[0] == "frozen" { frozen = words[1] == "1" }
            if words[0] == "populated" { populated = words[1] == "1" }
        }
        return frozen.map { FreezerReading(frozen: $0, populated: populated) }
    }

    /// cgroup v1's `freezer.state`: THAWED, FREEZING or FROZEN.
    static func parseState(_ text: String) -> FreezerReading? {
        switch text.split(separator: "\n").first ?? "" {
        case "THAWED": return FreezerReading(frozen: false)
        case "FREEZING", "FROZEN": return FreezerReading(frozen: true)
        default: return nil
        }
    }

    /// The freezer of the cgroup at `path`, or a sentence saying why that path has none.
    static func probe(_ path: String, in fs: CgroupFS) throws(FreezerError) -> CgroupFreezer {
        guard path.hasPrefix("/"), !path.utf8.contains(0) else {
            throw FreezerError("cgroup must be an absolute path to a cgroup directory, such as /sys/fs/cgroup/system.slice/docker-ID.scope (got \(path))")
        }
        var directory = Substring(path)
        while directory.hasSuffix("/") { directory = directory.dropLast() }
        guard !directory.isEmpty else { throw FreezerError("/ is not a cgroup directory") }
        // A symlink is resolved once, here: the watch must see the removal of the cgroup itself in its real parent,
        // not of the link in the link's directory (that never comes), or a removed container stays watched.
        let dir = fs.resolve(String(directory)) ?? String(directory)
        // The resolved bytes are decoded with U+FFFD for what is not UTF-8: a path berth could neither open nor
        // show, which would read as "no such cgroup directory" of one that exists.
        if dir.unicodeScalars.contains("\u{FFFD}") && !path.unicodeScalars.contains("\u{FFFD}") {
            throw FreezerError("\(path) leads to a directory whose real path is not UTF-8 (\(dir)); berth names cgroups by their UTF-8 paths")
        }
        switch fs.entry(dir) {
        case .directory: break
        case .missing: throw FreezerError("no such cgroup directory: \(dir)")
        case .other: throw FreezerError("\(dir) is not a directory")
        case .failed(let reason): throw FreezerError("cannot reach \(dir): \(reason)")
        }
        for version in [Version.v2, .v1] {
            let candidate = CgroupFreezer(directory: dir, version: version)
            switch fs.read(candidate.stateFile) {
            case .missing: continue
            case .failed(let reason, let short):
                throw FreezerError("cannot read \(candidate.stateFile): \(reason)\(short ? " (berth is out of descriptors: try again once some are free)" : "")",
                                   outOfDescriptors: short)
            case .text(let text):
                if candidate.reading(text) != nil { return candidate }
                if version == .v2 {
                    throw FreezerError("\(candidate.stateFile) has no frozen line: the cgroup v2 freezer needs Linux 5.2 or later")
                }
                throw FreezerError("\(candidate.stateFile) does not say THAWED, FREEZING or FROZEN")
            }
        }
        throw FreezerError("\(dir) is not a cgroup with a freezer: it has neither cgroup.events (cgroup v2; the root cgroup has none) nor freezer.state (cgroup v1, below the freezer hierarchy's root)")
    }
}
