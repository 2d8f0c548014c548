// A kernel uevent datagram decoded (`ACTION@DEVPATH`, then NUL-separated `KEY=VALUE`s), and which of them mean a VM restore.

/// One message of the kernel's uevent broadcast, as NETLINK_KOBJECT_UEVENT carries it: a header `ACTION@DEVPATH`,
/// then `KEY=VALUE` strings, each ended by a NUL.
struct UeventMessage: Equatable, Sendable {
    var action: String
    var devpath: String
    /// Every `KEY=VALUE` in order; a string without `=` is skipped.
    var fields: [(key: String, value: String)]

    /// The message in `bytes`, or nil when it has no `ACTION@DEVPATH` header (udev's re-broadcasts start `libudev`).
    init?(_ bytes: UnsafeRawBufferPointer) {
        var parts = bytes.split(separator: 0, omittingEmptySubsequences: true).makeIterator()
        guard let header = parts.next(), let at = header.firstIndex(of: UInt8(ascii: "@")), at > header.startIndex else { return nil }
        action = String(decoding: header[..<at], as: UTF8.self)
        devpath = String(decoding: header[(at + 1)...], as: UTF8.self)
        fields = []
        while let part = parts.next() {
            guard let eq = part.firstIndex(of: UInt8(ascii: "=")), eq > part.startIndex else { continue }
            fields.append((String(decoding: part[..<eq], as: UTF8.self), String(decoding: part[(eq + 1)...], as: UTF8.self)))
        }
    }

    /// The value of the first field named `key`.
    subscript(_ key: String) -> String? { fields.first { $0.key == key }?.value }

    static func == (a: UeventMessage, b: UeventMessage) -> Bool {
        a.action == b.action && a.devpath == b.devpath && a.fields.elementsEqual(b.fields) { $0 == $1 }
    }
}

/// Which uevents tell berth that the VM it runs in was restored from a snapshot.
enum VMRestoreSignal {
    /// What vmgenid (drivers/virt/vmgenid.c) sends on the device when the VM generation ID changes.
    static let kernelKey = "NEW_VMGENID"
    /// The same written by root to the device's `uevent` file (`change <uuid> NEWVMGENID=1`): the kernel admits only
    /// alphanumeric argument names and prefixes them, so the synthetic form cannot be spelt as the real one.
    static let syntheticKey = "SYNTH_ARG_NEWVMGENID"

    /// Whether `bytes` is a restore: a `change` uevent carrying `NEW_VMGENID=1`, or a synthetic `change` of the
    /// vmgenid device carrying `SYNTH_ARG_NEWVMGENID=1`. Any other synthetic change (`udevadm trigger` sends them to
    /// every device) is not. Other devices' messages are turned away by their first bytes, before anything is decoded.
    static func isRestore(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.starts(with: "change@".utf8), let m = UeventMessage(bytes), m.action == "change" else { return false }
        if m[kernelKey] == "1" { return true }
        return m[syntheticKey] == "1" && m["DRIVER"] == "vmgenid"
    }
}
