// The callers of the whole process, counted across workers, against --max-callers.
import Synchronization

/// How many callers all workers hold: `max-callers` guards the process's descriptors, so it counts over all workers
/// (HAProxy's maxconn), where a per-worker share let the kernel's SO_REUSEPORT hash refuse a caller on one worker
/// while another had room. One atomic step per connection accepted or closed, none per request.
final class CallerGauge: Sendable {
    private let count = Atomic<Int>(0)

    /// A gauge at zero.
    init() {}

    /// Callers held now, all workers together.
    var value: Int { count.load(ordering: .relaxed) }

    /// Takes a place for one more caller if fewer than `limit` are held; false at the limit.
    func take(below limit: Int) -> Bool {
        var seen = count.load(ordering: .relaxed)
        while seen < limit {
            let (exchanged, now) = count.compareExchange(expected: seen, desired: seen + 1, ordering: .relaxed)
            if exchanged { return true }
            seen = now
        }
        return false
    }

    /// Takes a place whatever the limit (a session adopted without `accept`: the tests that drive one by hand).
    func add() { count.wrappingAdd(1, ordering: .relaxed) }

    /// Gives a caller's place back when its session ends.
    func release() { count.wrappingSubtract(1, ordering: .relaxed) }
}

/// Descriptors berth holds for something other than a caller (a freezer watch's open state file), counted with the
/// callers against max-callers: the limit guards the process's descriptors, and a flood of /watch that took them
/// uncounted left berth unable to accept a caller or open a connection.
struct DescriptorPlaces {
    let gauge: CallerGauge
    /// max-callers now (a reload may change it).
    let limit: () -> Int

    /// Takes a place for one descriptor; false at the limit.
    func take() -> Bool { gauge.take(below: limit()) }

    /// Gives a place back when its descriptor is closed.
    func give() { gauge.release() }
}
