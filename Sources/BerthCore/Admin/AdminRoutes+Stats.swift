// GET /stats: the whole document, one upstream, or one page of them searched, filtered and sorted on the server.
import HTTP1
import EventLoop

/// The /stats endpoint.
extension AdminRoutes {
    /// The whole document (no paging parameter) is snapshotted in full; a page is picked from every upstream's
    /// summary, then only its upstreams are snapshotted. Each worker walks its pools in slices (SnapshotTaker) and
    /// the admin's loop merges the workers' parts (SnapshotMerger) and renders (StatsDocument) in slices, so no
    /// step holds a loop for more than ~0.5 ms but the pick (a page: ~0.5 ms at 10,000 upstreams; the whole document
    /// sorts every name, ~1.5 ms). Each of these begins on a loop turn of its own (`AdminServer.later`, and the
    /// connection renders the first slice on the next turn), so no two of them add up in one hold.
    /// One snapshot at a time (`SnapshotTurns`): its turn lasts until the document is rendered.
    func stats(_ q: Substring, head: RequestHead, life: AdminConnectionLife, respond: @escaping (AdminResponse) -> Void) throws(AdminError) {
        let query = try AdminQuery(q, allowed: ["upstream", "q", "state", "sort", "offset", "limit"])
        let key = try query.upstream(required: false)
        let selection = try StatsSelection(query)
        admin.snapshotTurns.take(life: life) { [self] turn in
            snapshot(key: key, selection: selection, head: head, respond: turn.ending(respond))
        }
    }

    private func snapshot(key: PoolKey?, selection: StatsSelection, head: RequestHead, respond: @escaping (AdminResponse) -> Void) {
        let paging = key == nil && !selection.isWhole
        admin.gather({ (worker: Worker, reply: @escaping (StatsSnapshot) -> Void) in
            let listed: Set<PoolKey>? = paging ? [] : key.map { Set(worker.manager.existingPools(at: $0).map(\.key)) }
            SnapshotTaker(worker, listed: listed, summarize: paging, done: reply).start()
        }, done: { [self] (parts: [StatsSnapshot]) in
            // The walk's last slice has just held the loop: the merge and the pick start on a later turn.
            admin.later { [self] in
                SnapshotMerger(parts, base: admin.base, around: { [worker = admin.worker] in worker.holdingForAdmin($0) }) { [self] merged in
                    answer(merged, key: key, selection: selection, paging: paging, head: head, respond: respond)
                }.start()
            }
        })
    }

    /// Picks what to list from the merged snapshot and answers: at once for the whole document or one upstream,
    /// after a second round to the workers for a page's upstreams in full.
    private func answer(_ merged: StatsSnapshot, key: PoolKey?, selection: StatsSelection, paging: Bool, head: RequestHead,
                        respond: @escaping (AdminResponse) -> Void) {
        var merged = merged
        if let key, merged.pools.isEmpty {
            return respond(AdminResponse.error(404, "berth knows no upstream \(key)"))
        }
        let picked = selection.pick(merged)
        guard paging else { return respond(document(merged, order: picked.positions, matched: picked.matched, head: head)) }
        // The page's upstreams in full, from every worker; one forgotten since the summaries is left out.
        let keys = picked.positions.map { merged.summaries[$0].key }
        admin.gather({ (worker: Worker, reply: @escaping ([PoolSnapshot]) -> Void) in
            reply(AdminRoutes.snapshots(worker, keys))
        }, done: { [self] (lists: [[PoolSnapshot]]) in
            var byKey: [PoolKey: PoolSnapshot] = [:]
            for list in lists {
                for p in list { if byKey[p.key] == nil { byKey[p.key] = p } else { byKey[p.key]!.merge(p) } }
            }
            merged.pools = keys.compactMap { byKey[$0] }
            respond(document(merged, order: Array(merged.pools.indices), matched: picked.matched, head: head))
        })
    }

    /// Full snapshots of the pools named `keys` on `worker`, those it has.
    private static func snapshots(_ worker: Worker, _ keys: [PoolKey]) -> [PoolSnapshot] {
        keys.compactMap { key in
            guard let p = worker.manager.pools[key] else { return nil }
            var s = PoolSnapshot(p)
            // As in StatsSnapshot.add: the first worker reports the pauses.
            if worker.index == 0 { s.counters.setPauses(p.holds.counts, adding: false) }
            return s
        }
    }

    /// The answer: the document, rendered a slice at a time by the admin connection.
    private func document(_ s: StatsSnapshot, order: [Int], matched: Int, head: RequestHead) -> AdminResponse {
        let server = admin.server
        let doc = StatsDocument(s, order: order, matched: matched, uptime: server.uptime,
                                profile: server.configuration.profile, workers: admin.workers.count)
        var r = AdminResponse(status: 200, sliced: doc)
        r.headOnly = head.method == .head
        return r
    }
}
