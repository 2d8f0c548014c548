// Hears one process signal on a loop (libevent's evsignal), as an ordinary callback instead of an async handler.

/// Calls `onSignal` on the loop's thread each time the signal arrives, until freed.
package final class SignalWatch: EventHandler {
    private var event: LoopEvent!
    private let onSignal: () -> Void

    /// Starts listening for `signal` on `base`.
    package init(base: EventBase, signal: CInt, onSignal: @escaping () -> Void) {
        self.onSignal = onSignal
        event = LoopEvent(base: base, signal: signal, handler: self)
        event.add()
    }

    /// The signal arrived.
    package func handleEvent(_ tag: EventTag, what: Int16) { onSignal() }

    /// Stops listening and frees the event (teardown).
    package func free() { event.free() }
}
