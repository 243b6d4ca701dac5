import Crypto
import Foundation

/// Where the key that encrypts agent secrets comes from, in this order:
///
/// 1. `MASTER_SECRET_KEY`: when it is base64 of exactly 32 bytes, those bytes; any other text
///    is hashed with SHA-256 to 32 bytes (so a passphrase works, but a random key is better:
///    `openssl rand -base64 32`).
/// 2. A key file beside the SQLite store (`PATH.master-key`, mode 0600): read when it exists,
///    else 32 random bytes are written there, base64. Never in the database itself, so a copy of
///    the database alone does not reveal any secret.
/// 3. With the `memory:` store and no variable: a random key for the life of the process.
public enum MasterKey {
    /// The key for `configured` (the variable's value) and the store location.
    ///
    /// - Returns: the key and a sentence saying where it came from (for the log; never the key).
    public static func resolve(configured: String?, keyFile: String?) throws -> (key: SymmetricKey, source: String) {
        // Surrounding whitespace (a newline from `echo` or a file) is not part of the key.
        if let configured = configured?.trimmingCharacters(in: .whitespacesAndNewlines), !configured.isEmpty {
            if let data = Data(base64Encoded: configured), data.count == 32 {
                return (SymmetricKey(data: data), "MASTER_SECRET_KEY (32 bytes, base64)")
            }
            return (SymmetricKey(data: SHA256.hash(data: Data(configured.utf8))), "MASTER_SECRET_KEY (SHA-256 of the text)")
        }
        guard let keyFile else { return (SymmetricKey(size: .bits256), "a random key kept in memory (memory: store)") }
        let text: String?
        do {
            text = try SecretFile.read(keyFile, what: "master key")
        } catch {
            throw MasterKeyError("\(error)")
        }
        if let text {
            guard let data = Data(base64Encoded: text), data.count == 32 else {
                throw MasterKeyError("the master key file \(keyFile) does not hold 32 bytes in base64")
            }
            return (SymmetricKey(data: data), "the key file \(keyFile)")
        }
        let key = SymmetricKey(size: .bits256)
        do {
            try SecretFile.create(
                keyFile, key.withUnsafeBytes { Data($0).base64EncodedString() } + "\n", what: "master key",
                hint: "set MASTER_SECRET_KEY or make its folder writable"
            )
        } catch {
            throw MasterKeyError("\(error)")
        }
        return (key, "the new key file \(keyFile)")
    }

    /// The key file of a SQLite store at `databasePath`.
    public static func keyFile(forDatabase databasePath: String) -> String {
        databasePath + ".master-key"
    }
}

/// The master key cannot be had; the message says what to do.
public struct MasterKeyError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
