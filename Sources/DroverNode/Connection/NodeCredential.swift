import Foundation
import Logging
import Synchronization

/// The credential a node presents to the manager: its join token until the manager gives it a
/// node credential in `welcome`, and that credential from then on (kept in a file, when one is
/// configured, so the next start uses it too).
final class NodeCredential: Sendable {
    private let current: Mutex<String>
    let file: String?

    /// Starts from the stored credential in `file` when `token` is a join token (used up once the
    /// node joined) or empty and there is one; else from `token`.
    init(token: String, file: String?) {
        self.file = file
        let stored = Self.stored(in: file)
        current = Mutex((token.isEmpty || Self.isJoinToken(token)) ? (stored ?? token) : token)
    }

    /// The credential kept in `file`, if there is one.
    static func stored(in file: String?) -> String? {
        let text = file.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) }?.trimmingCharacters(in: .whitespacesAndNewlines)
        return text.flatMap { $0.isEmpty ? nil : $0 }
    }

    static func isJoinToken(_ token: String) -> Bool { token.hasPrefix("drj_") }

    /// What to send as the bearer token now.
    var token: String { current.withLock { $0 } }

    /// Uses `credential` from now on and writes it to the file (mode 0600), if there is one.
    func replace(with credential: String, logger: Logger) {
        current.withLock { $0 = credential }
        guard let file else {
            logger.notice("got a node credential; it is kept in memory only (pass --credential-file to keep it across restarts)")
            return
        }
        do {
            let url = URL(fileURLWithPath: file)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: file, contents: nil, attributes: [.posixPermissions: 0o600])
            try Data(credential.utf8).write(to: url)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
            logger.info("stored the node credential the manager issued", metadata: ["file": "\(file)"])
        } catch {
            logger.error("could not store the node credential; it is kept in memory only", metadata: ["file": "\(file)", "error": "\(error)"])
        }
    }
}

extension NodeConfiguration {
    /// Whether `credentialFile` holds a credential from an earlier join.
    public var hasStoredCredential: Bool { NodeCredential.stored(in: credentialFile) != nil }
}
