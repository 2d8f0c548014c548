// Which generation (container) an address serves now, and which it served before: the pure rules of Berth-Generation.
import Synchronization

/// The generations one upstream pool has been told of by `Berth-Generation` request headers. A generation is an
/// opaque token the caller names (a container id); the pool's epoch stands for the current one, so requests without
/// the header need nothing from here. Retired generations are remembered as seeded hashes, a bounded few, so a
/// late request naming one is refused instead of reviving it, and memory stays bounded however many are named.
struct Generations: Sendable, Equatable {
    /// Retired generations remembered per pool. Past it the oldest is forgotten: a request naming that one again is
    /// taken for a new generation (it becomes current, which closes the idle connections of the one it replaces).
    static let retiredLimit = 16
    /// Longest token accepted: a container id (64 hex digits) fits.
    static let maxLength = 64

    /// What a request naming a generation meets.
    enum Verdict: Equatable, Sendable {
        /// It is the current generation (or the first named here): go on.
        case current
        /// A new generation: it becomes current, and the older one's connections must never be reused.
        case change
        /// It was replaced here: refuse the request, connecting nowhere.
        case stale
    }

    /// The current generation's token; nil until one is named.
    private(set) var current: String?
    /// Where `current` stands in the process-wide order of changes (`Generations.clock`): when two workers each saw
    /// a different new generation, the later stamp wins on both.
    private(set) var stamp: UInt64 = 0
    /// Hashes of retired tokens, oldest first, at most `retiredLimit`.
    private var retired: [Int] = []

    /// None named yet.
    init() {}

    /// Whether `token` is the syntax berth accepts: 1 to `maxLength` visible ASCII characters (0x21-0x7E), no space.
    static func isValid(_ token: String) -> Bool {
        let bytes = token.utf8
        guard !bytes.isEmpty, bytes.count <= maxLength else { return false }
        return bytes.allSatisfy { $0 >= 0x21 && $0 <= 0x7E }
    }

    /// What a request naming `token` meets here. Pure: `adopt` carries out a `.change`.
    func verdict(_ token: String) -> Verdict {
        if token == current { return .current }
        return retired.contains(Generations.hash(token)) ? .stale : .change
    }

    /// Makes `token` current with `stamp`, retiring the one it replaces.
    mutating func adopt(_ token: String, stamp: UInt64) {
        precondition(token != current, "a generation was adopted that is already current")
        if let old = current { retire(old) }
        current = token
        self.stamp = stamp
    }

    /// Another pool of the endpoint, or another worker, adopted `token` with `stamp`. The later stamp wins: an
    /// earlier one only retires `token`. Returns whether `token` became current here (the caller then moves the
    /// epoch on). A token already current, or already retired, changes nothing.
    mutating func heard(_ token: String, stamp: UInt64) -> Bool {
        guard token != current, !retired.contains(Generations.hash(token)) else { return false }
        guard stamp > self.stamp else {
            retire(token)
            return false
        }
        adopt(token, stamp: stamp)
        return true
    }

    private mutating func retire(_ token: String) {
        // Oldest first: past the limit the oldest is forgotten (a sixteen-element shift, once per change).
        retired.append(Generations.hash(token))
        if retired.count > Generations.retiredLimit { retired.removeFirst() }
    }

    /// The process's seeded hash: a caller cannot choose tokens that collide with a retired one.
    private static func hash(_ token: String) -> Int { token.hashValue }

    /// The process-wide order of generation changes: drawn only when a change happens, never per request.
    static let clock = Atomic<UInt64>(0)

    /// The next stamp.
    static func nextStamp() -> UInt64 { clock.add(1, ordering: .relaxed).newValue }
}
