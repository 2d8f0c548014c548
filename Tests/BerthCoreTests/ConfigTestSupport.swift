// Helpers that let configuration tests resolve from in-memory flags, environment and files.
import XCTest
@testable import BerthCore

/// Files a test provides by path; reading any other path fails as a missing file would.
struct InMemoryFiles {
    var files: [String: String]

    /// A reader serving `files`.
    var reader: ConfigurationLoader.FileReader {
        let files = files
        return { path in
            guard let text = files[path] else { throw FileReadFailure(reason: "No such file or directory") }
            return text
        }
    }
}

/// Resolves with `flags` (written as `["socket-timeout": ["2s"]]`), `environment` and in-memory `files`.
func resolve(
    _ flags: [String: [String]] = [:], environment: [String: String] = [:], files: [String: String] = [:]
) throws(ConfigError) -> BerthConfiguration {
    var parsed = ConfigFlags()
    for (name, values) in flags { parsed[ConfigKey(rawValue: name)!] = values }
    let reader = InMemoryFiles(files: files).reader
    return try ConfigurationLoader.resolve(flags: parsed, environment: environment, readFile: reader, readSecret: reader)
}

/// The message of the configuration error, or of the problem with a single value, that `body` fails with;
/// a test failure if it succeeds or fails some other way.
func errorMessage<T>(file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> T) -> String {
    do {
        let value = try body()
        XCTFail("expected an error, got \(value)", file: file, line: line)
    } catch let error as ConfigError {
        return error.message
    } catch let problem as ValueProblem {
        return problem.message
    } catch {
        XCTFail("expected a configuration error or value problem, got \(error)", file: file, line: line)
    }
    return ""
}
