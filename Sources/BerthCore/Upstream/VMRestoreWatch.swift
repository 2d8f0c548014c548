// The VM restore watch: hears the kernel say the VM was started from a snapshot (vmgenid's uevent, VMClock's counter).
import Glibc
import EventLoop

/// Watches the VM generation the kernel exposes and calls `onRestore` when it changes: every pooled connection is
/// then suspect, since the peers' TCP state moved on while the snapshot slept. One watch per process, on worker 0's
/// loop (it carries the admin listener too); the server fans each restore out to every worker (Server+Restore.swift).
///
/// Two sources, either or both: the vmgenid device's `change` uevent (`NEW_VMGENID=1`) on a NETLINK_KOBJECT_UEVENT
/// socket, and VMClock's `vm_generation_counter` in `/dev/vmclock0`'s page, read every `clockPollInterval` (a memory
/// load; VMClock's poll() notification is optional in the ABI and not relied on).
final class VMRestoreWatch: EventHandler {
    /// Where the sources are looked for; tests point them elsewhere.
    struct Places: Sendable {
        /// Driver directories that list a bound vmgenid device (a link named like `VMGENCTR:00` or `QEMUVGID:00`):
        /// the platform driver since Linux 6.10, the ACPI one before.
        var vmgenidDrivers: [String]
        var vmclock: String

        static let system = Places(vmgenidDrivers: ["/sys/bus/platform/drivers/vmgenid", "/sys/bus/acpi/drivers/vmgenid"],
                                   vmclock: "/dev/vmclock0")
    }

    /// What said the VM was restored, as the log names it.
    enum Cause: String, Sendable {
        case vmgenid
        case vmclock
        /// The uevent queue overran: a restore may have been among the lost messages, so berth acts as if it was.
        case ueventOverrun = "uevent-overrun"
    }

    /// The least time between two restores acted on (RestoreGate).
    static let spacing: Nanos = 1_000_000_000
    /// How often VMClock's counter is read.
    static let clockPollInterval: Nanos = 250_000_000

    private let base: EventBase
    private let onRestore: (Cause) -> Void
    /// Moves the pools on at once, uncounted: the first signal inside the gate's spacing.
    private let moveNow: () -> Void
    private var uevents: UeventSocket?
    private var clock: VMClockPage?
    private var generation: UInt64?
    private var clockTimer: LoopEvent?
    private var gateTimer: LoopEvent?
    private var gate = RestoreGate(spacing: VMRestoreWatch.spacing)
    /// The first cause of the signals waiting for the gate.
    private var waiting: Cause?
    /// The sources watched, for the start-up line: `vmgenid`, `vmclock`.
    private(set) var sources: [String] = []
    /// Sources that exist but could not be opened, one sentence each.
    private(set) var problems: [String] = []
    /// OpenSSL could not reseed at the last signal (it then reseeds on its own interval): the restore's log line says so.
    private(set) var reseedFailed = false

    /// Opens every source found at `places`; with none, `sources` is empty and nothing is watched.
    init(base: EventBase, places: Places = .system, moveNow: @escaping () -> Void = {}, onRestore: @escaping (Cause) -> Void) {
        self.base = base
        self.onRestore = onRestore
        self.moveNow = moveNow
        if let device = places.vmgenidDrivers.lazy.compactMap(Self.boundDevice).first {
            do throws(UeventSocket.Failure) {
                uevents = try UeventSocket(base: base) { [unowned self] in self.delivered($0) }
                sources.append("vmgenid")
            } catch {
                problems.append("vmgenid device \(device): cannot open a uevent socket: \(error.reason)")
            }
        }
        if access(places.vmclock, F_OK) == 0 {
            do throws(VMClockPage.Failure) {
                let page = try VMClockPage(path: places.vmclock)
                clock = page
                generation = page.generation()
                let t = LoopEvent(timerOn: base, handler: self, tag: .timer)
                t.add(after: Self.clockPollInterval)
                clockTimer = t
                sources.append("vmclock")
            } catch {
                problems.append("\(places.vmclock): \(error.reason)")
            }
        }
    }

    /// Stops watching (teardown, or a reload that turns the watch off); a second call does nothing.
    func close() {
        uevents?.close()
        uevents = nil
        clock?.close()
        clock = nil
        clockTimer?.free()
        clockTimer = nil
        gateTimer?.free()
        gateTimer = nil
    }

    // MARK: signals

    /// A uevent datagram or an overrun.
    private func delivered(_ d: UeventSocket.Delivery) {
        switch d {
        case .message(let bytes):
            if VMRestoreSignal.isRestore(bytes) { signal(.vmgenid) }
        case .overrun:
            signal(.ueventOverrun)
        }
    }

    /// One signal through the gate. OpenSSL's generator is reseeded at every signal, before the gate: a restore
    /// joined to a pending action still changed the VM under it, and a reseed is one getrandom call.
    private func signal(_ cause: Cause) {
        reseedFailed = !ProcessRandom.reseed()
        let now = MonotonicClock.now()
        switch gate.signal(now: now) {
        case .act:
            onRestore(cause)
        case .wait(let until):
            // A restore soon after the last one (a snapshot taken just after a restore carries the gate's memory
            // of it): connections pooled since are from before this one, so the pools move now, not at the end
            // of the spacing; the count and the log line still wait for it, and the signals joined meanwhile.
            moveNow()
            waiting = cause
            if gateTimer == nil { gateTimer = LoopEvent(timerOn: base, handler: self, tag: .wake) }
            gateTimer!.add(after: until - now)
        case .joined:
            break
        }
    }

    /// The VMClock poll timer (`.timer`) or the gate's (`.wake`).
    func handleEvent(_ tag: EventTag, what: Int16) {
        let now = MonotonicClock.now()
        if tag == .wake {
            if gate.fired(now: now), let cause = waiting {
                waiting = nil
                onRestore(cause)
            }
            return
        }
        guard let clock else { return }
        clockTimer?.add(after: Self.clockPollInterval)
        // Mid-update: the next tick reads it.
        guard let current = clock.generation() else { return }
        if let before = generation, before != current { signal(.vmclock) }
        generation = current
    }

    // MARK: finding the device

    /// The name of a device bound to the driver whose sysfs directory is `driver` (an entry with a `:`, as ACPI
    /// device names have), or nil.
    static func boundDevice(_ driver: String) -> String? {
        guard let dir = opendir(driver) else { return nil }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            // Read the name in place, as long as strlen says: copying d_name whole would drag along the bytes past
            // its end, which getdents never wrote (memcheck's "depends on uninitialised value" in the scan).
            let start = UnsafeRawPointer(entry) + MemoryLayout<dirent>.offset(of: \dirent.d_name)!
            let length = strlen(start.assumingMemoryBound(to: CChar.self))
            let name = String(decoding: UnsafeRawBufferPointer(start: start, count: length), as: UTF8.self)
            if name.contains(":") { return name }
        }
        return nil
    }
}
