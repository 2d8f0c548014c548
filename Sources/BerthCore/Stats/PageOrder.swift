// Puts one /stats page's upstreams in order without sorting every match: a selection, then a sort of the page alone.

/// The order /stats lists matches in (`StatsSort`'s figure descending, then the name's bytes ascending) over the
/// matches of one request, and the page `from..<to` of it. Sorting all 10,000 summaries for a page of 50 took ~1 ms in
/// one go on the admin's loop; finding the page's members is linear on average (quickselect) and only they are
/// sorted. The order is total (names are unique), so the page is the one a full sort gives, byte for byte.
struct PageOrder {
    /// Positions into the summaries of the matches, in the order given.
    private let hits: [Int]
    /// The sort figure of each match (all 0 by name).
    private let figure: [UInt64]
    /// Each match's name's first 16 bytes, packed as `PoolSummary.sortedByName` does.
    private let packed: [(UInt64, UInt64)]
    /// Each match's name, for the rare comparison the packed bytes cannot settle.
    private let names: [String]

    /// The order of `hits` (positions into `all`) by `sort`.
    init(_ all: [PoolSummary], _ hits: [Int], _ sort: StatsSort) {
        self.hits = hits
        var figure: [UInt64] = []
        var packed: [(UInt64, UInt64)] = []
        var names: [String] = []
        figure.reserveCapacity(hits.count)
        packed.reserveCapacity(hits.count)
        names.reserveCapacity(hits.count)
        for i in hits {
            var name = all[i].key.description
            packed.append(name.withUTF8 { PoolSummary.pack($0) })
            names.append(name)
            figure.append(sort.figure(all[i]))
        }
        self.figure = figure
        self.packed = packed
        self.names = names
    }

    /// Whether match `a` comes before match `b` (indices into `hits`).
    @inline(__always)
    private func less(_ a: Int, _ b: Int) -> Bool {
        if figure[a] != figure[b] { return figure[a] > figure[b] }
        let x = packed[a], y = packed[b]
        if x != y { return x < y }
        return PoolSummary.bytesLess(names[a], names[b])
    }

    /// Positions (into the summaries) of the matches ranked `from..<to`, in order.
    func page(_ from: Int, _ to: Int) -> [Int] {
        precondition(0 <= from && from <= to && to <= hits.count, "a page lies within the matches")
        guard from < to else { return [] }
        var order = Array(hits.indices)
        var rng = PivotPicker(seed: UInt64(hits.count))
        // Everything before `from` ranks below it, everything after `to - 1` above it.
        if from > 0 { select(&order, from, 0, order.count, &rng) }
        if to < order.count { select(&order, to, from, order.count, &rng) }
        var window = Array(order[from..<to])
        window.sort { less($0, $1) }
        return window.map { hits[$0] }
    }

    /// Rearranges `order[lo..<hi]` so that the match of rank `k` sits at `k`, those before it rank below it and those
    /// after it above it (quickselect with random pivots: linear on average, whatever the names).
    private func select(_ order: inout [Int], _ k: Int, _ lo: Int, _ hi: Int, _ rng: inout PivotPicker) {
        var lo = lo, hi = hi - 1
        while lo < hi {
            order.swapAt(lo + Int(rng.next() % UInt64(hi - lo + 1)), hi)
            let pivot = order[hi]
            var store = lo
            for i in lo..<hi where less(order[i], pivot) {
                order.swapAt(i, store)
                store += 1
            }
            order.swapAt(store, hi)
            if store == k { return }
            if k < store { hi = store - 1 } else { lo = store + 1 }
        }
    }
}

/// Pivot positions for `PageOrder.select` (splitmix64): cheap, and no order of names can make every pivot a bad one.
private struct PivotPicker {
    var state: UInt64

    /// A sequence that depends on `seed` only.
    init(seed: UInt64) { state = seed &+ 0x2545_F491_4F6C_DD1D }

    /// The next 64 random bits.
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
