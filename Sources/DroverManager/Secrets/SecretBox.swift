import Crypto
import DroverCore
import Foundation

/// Seals and opens the secrets of agent configs with AES-256-GCM under the master key.
///
/// A sealed value is base64 of `nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes)`; the plaintext is
/// the JSON text of the secret value. GCM authenticates it, so a changed byte or another key is
/// refused rather than decrypted into garbage.
public struct SecretBox: Sendable {
    private let key: SymmetricKey
    /// Bound into every tag, so a ciphertext made for something else is refused here.
    private static let context = Data("drover agent_config secret v1".utf8)

    /// A box for a 32-byte key.
    public init(key: SymmetricKey) {
        self.key = key
    }

    /// Seals one secret value; returns the base64 token (without `drover-secret:v1:`).
    public func seal(_ value: JSONValue) throws -> String {
        let plaintext = try JSONCoding.encoder().encode(value)
        let box = try AES.GCM.seal(plaintext, using: key, authenticating: Self.context)
        guard let combined = box.combined else { throw ConfigSecretsError("cannot seal a secret") }
        return combined.base64EncodedString()
    }

    /// Opens a token made by `seal`; the error never contains the value.
    public func open(_ token: String) throws -> JSONValue {
        guard let data = Data(base64Encoded: token) else { throw ConfigSecretsError("a sealed secret is not base64") }
        let plaintext: Data
        do {
            plaintext = try AES.GCM.open(AES.GCM.SealedBox(combined: data), using: key, authenticating: Self.context)
        } catch {
            throw ConfigSecretsError(
                "a secret cannot be decrypted with this master key (was MASTER_SECRET_KEY or the key file changed?)"
            )
        }
        return try JSONCoding.decoder().decode(JSONValue.self, from: plaintext)
    }

    /// `config` with every secret sealed (see `ConfigSecrets`).
    public func sealSecrets(in config: JSONValue) throws -> JSONValue {
        try ConfigSecrets.seal(config) { try seal($0) }
    }

    /// `config` with every sealed secret opened: what the agent gets in `init`.
    public func openSecrets(in config: JSONValue) throws -> JSONValue {
        try ConfigSecrets.open(config) { try open($0) }
    }
}
