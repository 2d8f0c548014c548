// The few figures /stats totals and summarizes for a pool it does not list, read in place from the ledger.

/// An unlisted pool's gauges, pause state and pause counts: a few words where `Upstream.state` hands out the whole
/// pool (its arrays retained and released) on each read, which at 10,000 upstreams was an eighth of a /stats page.
struct PoolReading {
    /// `UpstreamStat` gauges by `slot`.
    var gauges: PoolSnapshot.Gauges
    var paused: Bool
    var pauses: PauseCounts

    /// The table's gauges, once (a filtered array per pool would be an allocation per pool per snapshot).
    static let gaugeStats = UpstreamStat.all(.gauge)
}

extension ConnectionPool {
    /// This pool's reading; the one place the table's gauges are taken from a pool (`PoolSnapshot.gauges` asks here).
    var reading: PoolReading {
        var g = PoolSnapshot.Gauges(repeating: 0)
        for stat in PoolReading.gaugeStats {
            g[stat.slot] = switch stat {
            case .open: open
            case .idle: idle.count
            case .busy: busy
            case .connecting: connecting
            case .pending: waiters.count
            default: preconditionFailure("\(stat) is not a gauge")
            }
        }
        return PoolReading(gauges: g, paused: isPaused, pauses: holds.counts)
    }
}

extension Upstream {
    /// Its reading, in place from the ledger; a forgotten pool reads as empty, as `state` does.
    var reading: PoolReading {
        forgotten ? UpstreamLedger.Pool(maxPerRoute: settings.maxPerRoute, maxPending: settings.maxPending).reading
            : manager.ledger.reading(slot)
    }
}
