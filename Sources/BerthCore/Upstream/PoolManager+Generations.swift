// Generations on the pools: a request naming a new one for its address retires the older one's connections.
import EventLoop

extension PoolManager {
    /// A request to `pool` names generation `token` (`Berth-Generation`). A new one becomes current on every pool of
    /// the address (http://, https:// and CONNECT reach the same container): each moves to a new epoch, so no older
    /// connection is reused, and its idle connections close now (`generation`). A retired one is `.stale`, and
    /// nothing changes: the caller refuses the request without connecting.
    func nameGeneration(_ token: String, at pool: Upstream, now: Nanos) -> Generations.Verdict {
        let verdict = pool.generations.verdict(token)
        guard verdict == .change else { return verdict }
        let stamp = Generations.nextStamp()
        var targets = existingPools(at: pool.key.plain)
        if !targets.contains(where: { $0 === pool }) { targets.append(pool) }
        for p in targets { generationHeard(token, stamp: stamp, at: p, now: now, counted: true) }
        generationAnnounced?(pool.key.plain, token, stamp)
        return .change
    }

    /// Another worker made `token` current at `endpoint` with `stamp`: the later of its change and any of ours wins.
    /// An endpoint this worker has no pool for gets one (under --max-upstreams) to keep the record, so a late request
    /// naming the replaced generation here is refused too.
    func generationHeard(_ token: String, stamp: UInt64, at endpoint: PoolKey, now: Nanos) {
        var targets = existingPools(at: endpoint)
        if targets.isEmpty, let made = poolForRequest(endpoint, now: now) { targets = [made] }
        for p in targets { generationHeard(token, stamp: stamp, at: p, now: now, counted: false) }
    }

    /// `counted` on the worker whose request named it: the workers' counts add up in /stats, one change once.
    private func generationHeard(_ token: String, stamp: UInt64, at p: Upstream, now: Nanos, counted: Bool) {
        guard p.generations.heard(token, stamp: stamp) else { return }
        p.lastActivity = now
        if counted { p.counters[.generationChanges] &+= 1 }
        // A new container at the address: nothing is known of its server's HTTP version yet.
        p.answersHTTP10 = false
        moveEpoch(p, closing: .generation)
    }

    /// A new pool of an address takes the generations its sibling pools know, so a request over https:// meets
    /// the same current and retired generations as one over http://.
    func inheritGenerations(_ p: Upstream) {
        guard let known = existingPools(at: p.key.plain).first(where: { $0 !== p && $0.generations.current != nil }) else { return }
        p.generations = known.generations
    }
}
