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
        do throws(CgroupFileError) {
            fd = try Self.openRegular(path)
        } catch {
            throw FreezerError("cannot read \(path): \(error.reason)", outOfDescriptors: error.code == EMFILE || error.code == ENFILE)
        }
    }

    /// An open file, or what opening it said.
    private init(opening path: String) throws(CgroupFileError) {
        fd = try Self.openRegular(path)
    }

    /// A descriptor for `path`, which must be a regular file (cgroupfs files are). The path comes from an admin
    /// call or the configuration and this runs on an event loop: a FIFO's open would wait for a writer, and a
    /// device's read for data, stalling every connection, so the open never waits (O_NONBLOCK) and fstat refuses
    /// anything else before a read.
    private static func openRegular(_ path: String) throws(CgroupFileError) -> CInt {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw CgroupFileError(code: errno) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            _ = Glibc.close(fd)
            throw CgroupFileError(code: code)
        }
        if let kind = FileKind.notRegular(UInt32(info.st_mode)) {
            _ = Glibc.close(fd)
            throw CgroupFileError(code: 0, notRegular: kind)
        }
        return fd
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
        if code == ENOENT || code == ENODEV { return .missing }
        return .failed(String(cString: strerror(code)), outOfDescriptors: code == EMFILE || code == ENFILE)
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
                if let kind = error.notRegular { return .failed("not a regular file (\(kind))") }
                return failure(error.code)
            }
        },
        resolve: { path in
            guard let real = realpath(path, nil) else { return nil }
            defer { free(real) }
            return String(cString: real)
        })
}

/// The errno of a failed open, kept before anything else can overwrite it, or the kind of a file that is not regular.
private struct CgroupFileError: Error {
    let code: Int32
    var notRegular: String? = nil

    /// In a few words, for a message.
    var reason: String { notRegular.map { "not a regular file (\($0))" } ?? String(cString: strerror(code)) }
}
