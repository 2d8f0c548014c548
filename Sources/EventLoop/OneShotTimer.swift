// A timer that runs a closure once and frees its event, for answers that come later (/pause?drain=).

/// A one-shot timer that runs a closure once and frees its event.
package final class OneShotTimer: EventHandler {
    private var event: LoopEvent?
    private var action: (() -> Void)?

    /// A timer on `base` that will run `action`, once `start`ed.
    package init(base: EventBase, action: @escaping () -> Void) {
        self.action = action
        event = LoopEvent(timerOn: base, handler: self, tag: .timer)
    }

    /// Runs the action `nanos` from now.
    package func start(after nanos: Nanos) { event?.add(after: nanos) }

    /// Drops the action and frees the event; the action will not run.
    package func cancel() {
        event?.free()
        event = nil
        action = nil
    }

    /// The time came: free the event, then run the action.
    package func handleEvent(_ tag: EventTag, what: Int16) {
        let a = action
        cancel()
        a?()
    }
}
