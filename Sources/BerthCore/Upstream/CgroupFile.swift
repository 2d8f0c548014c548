// A cgroup's freezer state file held open and read from its start each time, and the probe's calls on the real system.
import Glibc

/// An open `cgroup.events` or `freezer.state`. cgroup files regenerate their text on every read at offset 0, so one
/// descriptor serves every read (one pread per v1 poll instead of open, read and close). Reading a file whose cgroup
/// was removed fails with ENODEV, which reads as `.missing`.
final class CgroupFile {
    private var fd: CInt
    /// The kernel's texts are under 32 bytes; a read that fills this is not a freezer state file.
    private var buffer = [UInt8](repeating: 0, count: 256)

    /// Opens `path` for reading.
    init(_ path: String) throws(FreezerError) {
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FreezerError("cannot read \(path): \(String(cString: strerror(errno)))") }
    }

    /// An open file, or what opening it said.
    private init(opening path: String) throws(CgroupFileError) {
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CgroupFileError(code: errno) }
    }

    /// The file's text now.
    func read() -> FileRead {
        guard fd >= 0 else { return .missing }
        let descriptor = fd
        let n = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        if n < 0 { return Self.failure(errno) }
        return .text(String(decoding: buffer[..<n], as: UTF8.self))
    }

    /// Closes the descriptor; a second call does nothing.
    func close() {
        if fd >= 0 { _ = Glibc.close(fd) }
        fd = -1
    }

    deinit { close() }

    /// An errno as a read result: gone for ENOENT and ENODEV, the system's sentence for anything else.
    static func failure(_ code: Int32) -> FileRead {
        code == ENOENT || code == ENODEV ? .missing : .failed(String(cString: strerror(code)))
    }

    /// The probe's calls on the real file system.
    static let system = CgroupFS(
        entry: { path in
            var st = stat()
            guard stat(path, &st) == 0 else {
                return errno == ENOENT || errno == ENOTDIR ? .missing : .failed(String(cString: strerror(errno)))
            }
            return st.st_mode & S_IFMT == S_IFDIR ? .directory : .other
        },
        read: { path in
            do throws(CgroupFileError) {
                let file = try CgroupFile(opening: path)
                defer { file.close() }
                return file.read()
            } catch {
                return failure(error.code)
            }
        })
}

/// The errno of a failed open, kept before anything else can overwrite it.
private struct CgroupFileError: Error {
    let code: Int32
}
