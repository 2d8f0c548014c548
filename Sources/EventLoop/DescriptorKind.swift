// What kind of file an open descriptor is, asked where a module that also sees Foundation could not read `stat` alone.
import Glibc

/// The kind of an open descriptor, for the few places that choose how to write by it. In BerthCore, whose other files
/// import Foundation, a `stat` made in a file that does not was read as CoreFoundation's in a fresh debug build
/// (MemberImportVisibility: "st_mode is not available due to missing import of CoreFoundation"); here no file does.
package enum DescriptorKind {
    /// Whether `fd` is a pipe or FIFO (false when fstat fails).
    package static func isPipe(_ fd: CInt) -> Bool {
        var st = stat()
        return fstat(fd, &st) == 0 && st.st_mode & S_IFMT == S_IFIFO
    }
}
