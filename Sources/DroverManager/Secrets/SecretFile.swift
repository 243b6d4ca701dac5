import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Files that hold a secret beside the SQLite store (the master key, the JWT secret): created
/// with mode 0600 from the first byte, never in the database, so that a copy of the database
/// alone reveals nothing.
enum SecretFile {
    /// The trimmed text of `path`, or `nil` when there is no such file.
    static func read(_ path: String, what: String) throws -> String? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw SecretFileError("cannot read the \(what) file \(path)")
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Creates `path` with mode 0600 and `text`; fails when it exists.
    static func create(_ path: String, _ text: String, what: String, hint: String) throws {
        #if canImport(Glibc)
        let descriptor = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        #else
        let descriptor = Darwin.open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        #endif
        guard descriptor >= 0 else { throw SecretFileError("cannot create the \(what) file \(path); \(hint)") }
        defer { close(descriptor) }
        let bytes = Array(text.utf8)
        guard write(descriptor, bytes, bytes.count) == bytes.count else { throw SecretFileError("cannot write the \(what) file \(path)") }
    }
}

/// A secret file cannot be read or written; the message says which and what to do.
struct SecretFileError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
