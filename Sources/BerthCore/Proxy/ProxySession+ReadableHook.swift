// The session's readable events without reference counts: the hook its channels call it through, and owning a channel with it.
import EventLoop

extension ProxySession {
    /// Becomes `channel`'s delegate, its readable events taken through `readableHook`.
    func own(_ channel: Channel) {
        channel.delegate = self
        channel.setReadableHook(readableHook)
    }

    /// The session's readable events, called borrowed. Safe because a session outlives every callback that may end
    /// it: the worker keeps an ended session until the callback returns (`Worker.sessionEnded`), and a channel drops
    /// the hook when its delegate changes. Two events per request each took a retain and a release of the session
    /// (in `Channel.handleEvent`) before.
    var readableHook: ReadableHook {
        ReadableHook(owner: Unmanaged.passUnretained(self).toOpaque()) { session, channel in
            Unmanaged<ProxySession>.fromOpaque(session)._withUnsafeGuaranteedRef { s in
                Unmanaged<Channel>.fromOpaque(channel)._withUnsafeGuaranteedRef { s.channelReadable($0) }
            }
        }
    }
}
