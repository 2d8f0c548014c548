// One libevent event_base, the loop of one worker thread: made without locks and with two priorities, run, stopped, freed.
import Glibc
internal import CLibevent

/// Installs the chain-block cache once, before the first libevent call of the process: blocks from the two
/// allocators must never meet (see shim.h).
let chainBlockAllocator: Void = berth_install_allocator()

/// The loop every event, channel, listener and resolver of one worker lives on; touched only from its thread.
package final class EventBase {
    /// The C base, for the C objects this module makes on it.
    let raw: OpaquePointer
    /// Spare blocks for the channels on this loop (ByteBlock.swift).
    let blocks = BlockPool()
    /// The boxes of events freed during the running callback (Trampolines.swift).
    let retired = RetiredBoxes()
    /// Connections that spent their turn's budget, run again once the loop has polled (`Channel.yieldRead`).
    private(set) lazy var yields = YieldQueue(base: self)
    /// Which pass of this loop runs (`Channel.wentIdleThisPass`, `PostedEvents`).
    package let pass = LoopPass()

    /// A base for one thread, with two priorities.
    package init() {
        _ = chainBlockAllocator
        let cfg = event_config_new()
        // One thread owns the base: no locks needed.
        event_config_set_flag(cfg, Int32(EVENT_BASE_FLAG_NOLOCK.rawValue))
        raw = event_base_new_with_config(cfg)
        event_config_free(cfg)
        // Two priorities: idle pooled connections' reads (0) before everything else (1, the default with two queues).
        event_base_priority_init(raw, 2)
    }

    /// Runs the loop until `stop()` or until no event is left; each poll counts a pass (`LoopPass`). The running
    /// thread's chain-block cache is freed when the thread ends (a worker's leaked).
    package func run() {
        berth_mm_watch_thread_exit()
        pass.enter()
        event_base_dispatch(raw)
        pass.leave()
    }

    /// Whether the calling thread's chain-block cache is registered to be freed at thread exit (tests). Asked here,
    /// not in CLibevent directly: each module that imports the shim has its own copy of its static state.
    package static var chainBlockCacheFreedAtExit: Bool {
        let cache = berth_mm_cache()!
        return cache.pointee.watched == 1 && pthread_getspecific(berth_mm_exit_key()!.pointee) == UnsafeMutableRawPointer(cache)
    }

    /// Ends `run()` after the running callback; call on the loop's thread.
    package func stop() {
        event_base_loopbreak(raw)
    }

    /// Frees the C base; every event on it must have been freed first (teardown, once).
    package func free() {
        yields.free()
        event_base_free(raw)
    }
}
