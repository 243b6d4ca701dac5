import Crypto
import CryptoExtras
import Foundation

/// A salted PBKDF2-SHA256 password hash, stored as `pbkdf2-sha256$ROUNDS$SALT$HASH` (hex).
struct PasswordHash: Sendable, Equatable {
    static let scheme = "pbkdf2-sha256"
    static let defaultRounds = 210_000

    let rounds: Int
    let salt: [UInt8]
    let hash: [UInt8]

    /// Hashes `password` with a new random salt.
    static func make(_ password: String, rounds: Int = defaultRounds) throws -> PasswordHash {
        let salt = Secrets.bytes(fromHex: Secrets.randomHex(bytes: 16)) ?? []
        return PasswordHash(rounds: rounds, salt: salt, hash: try derive(password, salt: salt, rounds: rounds))
    }

    /// Reads the stored form; `nil` when it is not one.
    init?(encoded: String) {
        let parts = encoded.split(separator: "$", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 4, parts[0] == Self.scheme, let rounds = Int(parts[1]), rounds >= 1,
              let salt = Secrets.bytes(fromHex: parts[2]), let hash = Secrets.bytes(fromHex: parts[3]), !hash.isEmpty
        else { return nil }
        self.init(rounds: rounds, salt: salt, hash: hash)
    }

    init(rounds: Int, salt: [UInt8], hash: [UInt8]) {
        self.rounds = rounds
        self.salt = salt
        self.hash = hash
    }

    /// The stored form.
    var encoded: String { "\(Self.scheme)$\(rounds)$\(Secrets.hex(salt))$\(Secrets.hex(hash))" }

    /// Whether `password` is the one hashed, in time that does not depend on how close it is.
    func matches(_ password: String) -> Bool {
        guard let candidate = try? Self.derive(password, salt: salt, rounds: rounds) else { return false }
        return Secrets.constantTimeEquals(candidate, hash)
    }

    private static func derive(_ password: String, salt: [UInt8], rounds: Int) throws -> [UInt8] {
        let key = try KDF.Insecure.PBKDF2.deriveKey(
            from: Array(password.utf8), salt: salt, using: .sha256, outputByteCount: 32, unsafeUncheckedRounds: rounds
        )
        return key.withUnsafeBytes { Array($0) }
    }
}
