// Which upstreams one /stats answer lists: search, state filter, sort order and page (`?q=&state=&sort=&offset=&limit=`).

/// The order /stats lists upstreams in. Names ascend; every figure descends (the biggest first, what a page of the
/// busiest or most failing wants), ties broken by name so that pages never overlap or skip.
enum StatsSort: String, CaseIterable, Sendable {
    case name, requests, errors, open, pending

    /// The figure sorted on, for every order but `name`.
    func figure(_ p: PoolSummary) -> UInt64 {
        switch self {
        case .name: 0
        case .requests: p.requests
        case .errors: p.errors
        case .open: UInt64(p.open)
        case .pending: UInt64(p.pending)
        }
    }
}

/// The parameters of a /stats that pick and order upstreams. The default (none given) lists every upstream by name:
/// today's whole document, for `berth ctl`, scrapers and docs/stats.schema.json.
struct StatsSelection: Equatable, Sendable {
    /// Most upstreams one page may list: a page is for a person, the whole document is for a program.
    static let maxLimit = 1000
    /// Longest search text: upstream names are at most a host name (253) and a port.
    static let maxQuery = 300

    var sort: StatsSort = .name
    /// Part of the name to look for, lowercased (names are canonical, hence lowercase); empty matches every one.
    var query: [UInt8] = []
    /// `paused`/`active`, or nil for both.
    var paused: Bool?
    var offset = 0
    /// nil lists every match from `offset`.
    var limit: Int?

    /// The parameters of `query` (already checked against the endpoint's names), with a 400 for a bad value.
    init(_ q: AdminQuery) throws(AdminError) {
        if let s = try q.choice("sort", StatsSort.allCases.map(\.rawValue)) { sort = StatsSort(rawValue: s)! }
        if let text = q.values["q"] {
            guard text.utf8.count <= StatsSelection.maxQuery else { throw .bad("q must be at most \(StatsSelection.maxQuery) bytes (got \(text.utf8.count))") }
            query = text.utf8.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }
        }
        if let s = try q.choice("state", ["active", "paused"]) { paused = s == "paused" }
        offset = try q.integer("offset", max: 1_000_000_000) ?? 0
        limit = try q.integer("limit", max: StatsSelection.maxLimit)
    }

    /// Everything, by name.
    init() {}

    /// Whether this asks for the whole document (no search, filter, order or page): it is then taken in full at
    /// once, where a page is picked from summaries and only its upstreams are snapshotted.
    var isWhole: Bool { self == StatsSelection() }

    /// Whether `p` passes the search and the state filter.
    func matches(_ p: PoolSummary) -> Bool {
        if let paused, p.paused != paused { return false }
        guard !query.isEmpty else { return true }
        var name = p.key.description
        return name.withUTF8 { n in StatsSelection.contains(n, query) }
    }

    /// Whether `needle` occurs in `hay`, byte for byte.
    static func contains(_ hay: UnsafeBufferPointer<UInt8>, _ needle: [UInt8]) -> Bool {
        guard needle.count <= hay.count else { return false }
        let first = needle[0]
        var i = 0
        while i + needle.count <= hay.count {
            if hay[i] == first {
                var k = 1
                while k < needle.count && hay[i + k] == needle[k] { k += 1 }
                if k == needle.count { return true }
            }
            i += 1
        }
        return false
    }

    /// Positions into `s.summaries` (and `s.pools` when it lists them) of the upstreams to list, in order, and how
    /// many matched before paging.
    func pick(_ s: borrowing StatsSnapshot) -> (positions: [Int], matched: Int) { pick(s.summaries) }

    /// Positions into `all` of the upstreams to list, in order, and how many matched before paging. A page costs
    /// about a pass over the matches plus a sort of its own upstreams (PageOrder); only the whole list sorts them all.
    func pick(_ all: [PoolSummary]) -> (positions: [Int], matched: Int) {
        var hits: [Int] = []
        hits.reserveCapacity(all.count)
        for i in all.indices where matches(all[i]) { hits.append(i) }
        let from = min(offset, hits.count)
        let to = limit.map { min(hits.count, from + $0) } ?? hits.count
        guard from < to else { return ([], hits.count) }
        return (PageOrder(all, hits, sort).page(from, to), hits.count)
    }
}
