// The per-thread cache of libevent chain blocks: blocks come back, sizes survive the list, other sizes pass through.
import Glibc
import XCTest
import CLibevent
@testable import EventLoop

final class ChainBlockCacheTests: XCTestCase {
    func testAFreedChainBlockIsReusedAndKeepsItsSizeOnTheList() {
        let a = berth_mm_malloc(4096)
        berth_mm_free(a)
        let b = berth_mm_malloc(4096)
        XCTAssertEqual(a, b, "the block came back from the cache")
        // Regression: the list link used to overwrite the size word, so the second trip went to libc instead.
        berth_mm_free(b)
        XCTAssertEqual(berth_mm_malloc(4096), a)
        berth_mm_free(a)
    }

    func testSizesOutsideTheClassesAreNotCached() {
        let before = berth_mm_cache()!.pointee.counts
        let a = berth_mm_malloc(3000)
        XCTAssertNotNil(a)
        berth_mm_free(a)
        let after = berth_mm_cache()!.pointee.counts
        XCTAssertTrue(withUnsafeBytes(of: before) { b in withUnsafeBytes(of: after) { b.elementsEqual($0) } }, "no class gained a block")
    }

    func testReallocKeepsTheContents() {
        let p = berth_mm_malloc(1024)!.assumingMemoryBound(to: UInt8.self)
        for i in 0..<1024 { p[i] = UInt8(i & 0xff) }
        let q = berth_mm_realloc(p, 8192)!.assumingMemoryBound(to: UInt8.self)
        for i in 0..<1024 { XCTAssertEqual(q[i], UInt8(i & 0xff)) }
        berth_mm_free(q)
    }

    func testReleasingTheThreadCacheEmptiesItsLists() {
        let a = berth_mm_malloc(2048), b = berth_mm_malloc(2048)
        berth_mm_free(a)
        berth_mm_free(b)
        XCTAssertGreaterThanOrEqual(berth_mm_cache()!.pointee.counts.2, 2)
        berth_mm_release_thread_cache()
        let counts = berth_mm_cache()!.pointee.counts
        XCTAssertTrue(withUnsafeBytes(of: counts) { $0.allSatisfy { $0 == 0 } }, "every block went back to libc")
        XCTAssertNil(berth_mm_cache()!.pointee.lists.2)
    }

    /// A thread that runs a loop registers the thread-exit destructor that frees its cache (a worker's leaked).
    func testAThreadThatRunsALoopFreesItsCacheAtExit() {
        var thread = pthread_t()
        XCTAssertEqual(pthread_create(&thread, nil, { _ in
            let base = EventBase()
            base.run()  // no event: returns at once
            base.free()
            return EventBase.chainBlockCacheFreedAtExit ? UnsafeMutableRawPointer(bitPattern: 1) : nil
        }, nil), 0)
        var result: UnsafeMutableRawPointer?
        pthread_join(thread, &result)
        XCTAssertNotNil(result, "the cache was registered for the thread-exit destructor")
    }

    func testTheEnvironmentSwitchTurnsTheCacheOff() {
        let saved = getenv("BERTH_CHAIN_BLOCK_CACHE").map { String(cString: $0) }
        defer { if let saved { setenv("BERTH_CHAIN_BLOCK_CACHE", saved, 1) } else { unsetenv("BERTH_CHAIN_BLOCK_CACHE") } }
        unsetenv("BERTH_CHAIN_BLOCK_CACHE")
        XCTAssertEqual(berth_mm_cache_disabled(), 0)
        setenv("BERTH_CHAIN_BLOCK_CACHE", "off", 1)
        XCTAssertEqual(berth_mm_cache_disabled(), 1)
        setenv("BERTH_CHAIN_BLOCK_CACHE", "on", 1)
        XCTAssertEqual(berth_mm_cache_disabled(), 0)
    }
}
