// VMClock's page read through a mapping: the generation counter under the seqcount, and pages that are not VMClock.
import Foundation
import XCTest
@testable import EventLoop

final class VMClockPageTests: XCTestCase {
    private var path = ""

    override func setUp() {
        path = NSTemporaryDirectory() + "berth-vmclock-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Writes a 4 KiB page laid out as include/uapi/linux/vmclock-abi.h says.
    private func writePage(magic: UInt32 = 0x4b4c_4356, seq: UInt32 = 2, flags: UInt64 = 1 << 8, generation: UInt64) throws {
        var page = [UInt8](repeating: 0, count: 4096)
        func put<T: FixedWidthInteger>(_ v: T, at offset: Int) {
            withUnsafeBytes(of: v.littleEndian) { page.replaceSubrange(offset..<offset + MemoryLayout<T>.size, with: $0) }
        }
        put(magic, at: 0)
        put(UInt32(4096), at: 4)
        put(UInt16(1), at: 8)
        put(seq, at: 12)
        put(flags, at: 24)
        put(generation, at: 104)
        // Rewritten in place, as the hypervisor does: the mapping sees the new bytes.
        if let h = FileHandle(forWritingAtPath: path) {
            try h.seek(toOffset: 0)
            try h.write(contentsOf: Data(page))
            try h.close()
        } else {
            XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(page)))
        }
    }

    /// Should read the counter, see it change through the same mapping, and give nothing while an update is under way.
    func testReadsTheGenerationCounterUnderTheSeqcount() throws {
        try writePage(generation: 7)
        let page = try VMClockPage(path: path)
        defer { page.close() }
        XCTAssertEqual(page.generation(), 7)
        try writePage(generation: 8)
        XCTAssertEqual(page.generation(), 8)
        try writePage(seq: 3, generation: 9)
        XCTAssertNil(page.generation(), "an odd seq_count means the hypervisor is mid-update")
    }

    /// Should refuse a page that is not VMClock, or has no generation counter, and a missing file.
    func testRefusesPagesWithoutAGenerationCounter() throws {
        try writePage(magic: 0x1234_5678, generation: 1)
        XCTAssertThrowsError(try VMClockPage(path: path))
        try writePage(flags: 0, generation: 1)
        XCTAssertThrowsError(try VMClockPage(path: path)) { XCTAssertEqual(($0 as? VMClockPage.Failure)?.errno, 0) }
        XCTAssertThrowsError(try VMClockPage(path: path + "-missing")) { XCTAssertEqual(($0 as? VMClockPage.Failure)?.errno, ENOENT) }
    }
}
