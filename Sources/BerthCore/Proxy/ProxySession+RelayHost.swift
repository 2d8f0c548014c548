// What the relay driver asks of the session (RelayHost): the worker's settings, and the response head written in place.
import HTTP1
import EventLoop

extension ProxySession: RelayHost {
    var highWater: Int { worker.settings.highWater }
    var maxPipelinedInput: Int { worker.settings.maxPipelinedInput }
    var limits: HTTP1Limits { worker.settings.limits }
    var shuttingDown: Bool { worker.isShuttingDown }
    var callerIdleTimeout: Nanos { worker.settings.callerIdleTimeout }
    var now: Nanos { worker.now }
    var responseHeadTimeout: Nanos { worker.settings.responseHeadTimeout }
    var stepsPerEvent: Int { worker.settings.relayStepsPerEvent }
    var forwardOptions: ForwardOptions { worker.settings.forward }
    var keepAliveTail: UInt64 { worker.settings.keepAliveTail }
    var replay: ReplayStore { worker.replay }
    /// The response head `parser` holds, written to `caller` with the worker's forwarding options passed in place
    /// (`Worker.withForwardOptions`); false as `RelayDriver.writeHead`.
    func writeResponseHead<C: RelayChannel>(_ parser: inout ResponseHeadParser, version: HTTPVersion, keepAlive: Bool,
                                            to caller: C) -> Bool {
        let tail = worker.settings.keepAliveTail
        return worker.withForwardOptions {
            ProxySession.writeResponse(&parser, version: version, keepAlive: keepAlive, options: &$0, keepAliveTail: tail, to: caller)
        }
    }

    /// `RelayDriver.writeHead` from `inout` options, borrowed for the same reason as `serialize`'s.
    @inline(never)
    private static func writeResponse<C: RelayChannel>(_ parser: inout ResponseHeadParser, version: HTTPVersion, keepAlive: Bool,
                                                       options: inout ForwardOptions, keepAliveTail: UInt64, to caller: C) -> Bool {
        RelayDriver.writeHead(&parser, version: version, keepAlive: keepAlive, options: options, keepAliveTail: keepAliveTail, to: caller)
    }
}
