// A first-in first-out queue on one array with a moving head, so waiting requests are served in arrival order.

/// FIFO queue; removal from the middle is O(n), which is fine because the queue is bounded by --max-pending.
struct FIFOQueue<Element> {
    private var items: [Element] = []
    private var head = 0

    /// An empty queue.
    init() {}

    var count: Int { items.count - head }
    var isEmpty: Bool { count == 0 }

    mutating func append(_ e: Element) { items.append(e) }

    /// The element `popFirst` would return, left in place.
    var first: Element? { head < items.count ? items[head] : nil }

    /// Removes and returns the first element; nil when empty. Fast path: the empty test is in line at the caller,
    /// since a pool's release nearly always finds no request waiting (its call cost ~20 instructions per request).
    @inline(__always)
    mutating func popFirst() -> Element? {
        guard _slowPath(head < items.count) else { return nil }
        return takeFirst()
    }

    /// `popFirst` of a queue that holds an element.
    @inline(never)
    private mutating func takeFirst() -> Element {
        let e = items[head]
        head += 1
        if head > 32 && head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        return e
    }

    /// Removes the first element that matches; false when none does.
    mutating func remove(where matches: (Element) -> Bool) -> Bool {
        guard let i = items[head...].firstIndex(where: matches) else { return false }
        items.remove(at: i)
        return true
    }

    /// Elements in order.
    var elements: ArraySlice<Element> { items[head...] }
}
