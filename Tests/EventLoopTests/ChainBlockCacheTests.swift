// The per-thread cache of libevent chain blocks: blocks come back, sizes survive the list, other sizes pass through.
import XCTest
import CLibevent

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
}
