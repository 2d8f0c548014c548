// The loop boundary: BerthCore reaches libevent and OpenSSL only through EventLoop's types, never by naming a C module.
import Foundation
import XCTest

final class ModuleBoundaryTests: XCTestCase {
    /// SwiftPM puts every dependency's module map on its dependents' search paths, so dropping CLibevent from
    /// BerthCore's dependencies alone would still let a file `import CLibevent`; this reads the sources instead.
    func testNoBerthCoreSourceImportsCLibeventOrCallsEvbuffer() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let core = root.appendingPathComponent("Sources/BerthCore")
        let files = try XCTUnwrap(FileManager.default.enumerator(at: core, includingPropertiesForKeys: nil))
            .compactMap { $0 as? URL }
            .filter { $0.pathExtension == "swift" }
        XCTAssertGreaterThan(files.count, 10, "found BerthCore's sources")
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8)
            let name = file.lastPathComponent
            XCTAssertFalse(text.contains("import CLibevent"), "\(name) imports CLibevent")
            XCTAssertFalse(text.contains("import COpenSSL"), "\(name) imports COpenSSL")
            XCTAssertNil(text.range(of: #"\b(SSL|X509|ERR|BIO|EVP|PEM|OPENSSL)_[A-Za-z0-9_]+\("#, options: .regularExpression), "\(name) calls OpenSSL")
            XCTAssertNil(text.range(of: #"\b(berth_)?evbuffer_[a-z_]+\("#, options: .regularExpression), "\(name) calls evbuffer_*")
            XCTAssertNil(text.range(of: #"\bevent_[a-z_]+\("#, options: .regularExpression), "\(name) calls libevent")
        }
    }
}
