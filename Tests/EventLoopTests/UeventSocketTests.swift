// The uevent socket on a loop, fed by synthetic uevents root writes to the vmgenid device: messages, then an overrun.
import Foundation
import XCTest
@testable import EventLoop

final class UeventSocketTests: XCTestCase {
    /// The vmgenid device's `uevent` file; skips where there is none or where it cannot be written.
    private func uevents() throws -> String {
        guard getuid() == 0 else { throw XCTSkip("writing a synthetic uevent needs root") }
        for driver in ["/sys/bus/platform/drivers/vmgenid", "/sys/bus/acpi/drivers/vmgenid"] {
            let devices = (try? FileManager.default.contentsOfDirectory(atPath: driver))?.filter { $0.contains(":") } ?? []
            if let d = devices.sorted().first { return "\(driver)/\(d)/uevent" }
        }
        throw XCTSkip("no vmgenid device here")
    }

    /// A synthetic `change` with no argument: every listener hears it, none takes it for a restore.
    private func emit(_ file: String) throws {
        try "change \(UUID().uuidString.lowercased())".write(toFile: file, atomically: false, encoding: .utf8)
    }

    /// Collects deliveries as text (`overrun` or the message's header).
    final class Seen {
        var items: [String] = []
    }

    private func run(_ base: EventBase, for nanos: Nanos) {
        let stop = OneShotTimer(base: base) { base.stop() }
        stop.start(after: nanos)
        base.run()
    }

    /// Should deliver the kernel's message with its `change@DEVPATH` header, and report an overrun when the queue
    /// was too small for what arrived while the loop was not reading.
    func testDeliversKernelMessagesAndReportsAnOverrun() throws {
        let file = try uevents()
        let base = EventBase()
        defer { base.free() }
        let seen = Seen()
        let record: (UeventSocket.Delivery) -> Void = {
            switch $0 {
            case .overrun: seen.items.append("overrun")
            case .message(let bytes): seen.items.append(String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self))
            }
        }
        let roomy = try UeventSocket(base: base, onDelivery: record)
        try emit(file)
        run(base, for: 300_000_000)
        roomy.close()
        let devpath = "/devices/" + URL(fileURLWithPath: file).resolvingSymlinksInPath().deletingLastPathComponent().path
            .components(separatedBy: "/devices/").last!
        XCTAssertTrue(seen.items.contains("change@" + devpath), "\(seen.items) lacks change@\(devpath)")
        XCTAssertFalse(seen.items.contains("overrun"))

        seen.items = []
        // The smallest queue the kernel allows holds a few messages; 64 written before the loop reads overrun it.
        let tiny = try UeventSocket(base: base, queueBytes: 0, onDelivery: record)
        for _ in 0..<64 { try emit(file) }
        run(base, for: 300_000_000)
        tiny.close()
        XCTAssertTrue(seen.items.contains("overrun"), "\(seen.items.count) deliveries, no overrun")
    }
}
