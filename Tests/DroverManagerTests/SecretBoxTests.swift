import Crypto
import DroverCore
import DroverTestSupport
import Foundation
import Testing

@testable import DroverManager

@Suite("Agent secrets: sealing, opening, redaction, master key")
struct SecretBoxTests {
    let box = SecretBox(key: SymmetricKey(size: .bits256))
    let config: JSONValue = [
        "api_key": "secret://sk-123", "plain": "visible", "nested": ["list": ["secret://in-a-list", 3]],
        "secrets": ["DB": "pw-456", "JSON": ["user": "u", "port": 5432], "MARKED": "secret://pw-789"],
    ]

    @Test("sealing leaves no secret in clear; opening gives the agent every value, markers dropped")
    func roundTrip() throws {
        let sealed = try box.sealSecrets(in: config)
        let text = String(decoding: try JSONCoding.encoder().encode(sealed), as: UTF8.self)
        for secret in ["sk-123", "in-a-list", "pw-456", "pw-789", "5432"] { #expect(!text.contains(secret)) }
        #expect(sealed["plain"] == "visible")
        #expect(sealed["api_key"]?.stringValue?.hasPrefix(ConfigSecrets.sealedPrefix) == true)
        let opened = try box.openSecrets(in: sealed)
        #expect(opened == [
            "api_key": "sk-123", "plain": "visible", "nested": ["list": ["in-a-list", 3]],
            "secrets": ["DB": "pw-456", "JSON": ["user": "u", "port": 5432], "MARKED": "pw-789"],
        ])
    }

    @Test("the same secret seals differently every time (random nonce)")
    func randomNonce() throws {
        #expect(try box.seal("same") != box.seal("same"))
    }

    @Test("redaction shows every secret, sealed or marked, as *** and keeps the rest")
    func redaction() throws {
        let expected: JSONValue = [
            "api_key": "***", "plain": "visible", "nested": ["list": ["***", 3]],
            "secrets": ["DB": "***", "JSON": "***", "MARKED": "***"],
        ]
        #expect(ConfigSecrets.redact(config) == expected)
        #expect(ConfigSecrets.redact(try box.sealSecrets(in: config)) == expected)
        #expect(ConfigSecrets.containsSecrets(config))
        #expect(!ConfigSecrets.containsSecrets(["a": "b", "secretsish": ["x": "secret:/nope"]]))
        var record = AgentRecord(id: "a", agentType: "t", tenant: "default", config: config, createdAt: Date(), updatedAt: Date())
        record = record.redacted
        #expect(record.config == expected)
    }

    @Test("a tampered ciphertext, another key, or garbage is refused with a message that names no value")
    func refusals() throws {
        let token = try box.seal("top-secret")
        var bytes = Array(try #require(Data(base64Encoded: token)))
        bytes[bytes.count / 2] ^= 0x01
        #expect(throws: ConfigSecretsError.self) { try box.open(Data(bytes).base64EncodedString()) }
        let other = SecretBox(key: SymmetricKey(size: .bits256))
        do {
            _ = try other.open(token)
            Issue.record("another key opened the secret")
        } catch {
            #expect("\(error)".contains("master key"))
            #expect(!"\(error)".contains("top-secret"))
        }
        #expect(throws: ConfigSecretsError.self) { try box.open("%%% not base64") }
        #expect(throws: ConfigSecretsError.self) { try box.open(Data(repeating: 0, count: 8).base64EncodedString()) }
    }

    @Test("a value that already looks sealed is refused (nobody can plant a ciphertext)")
    func reservedPrefix() {
        #expect(throws: ConfigSecretsError.self) { try box.sealSecrets(in: ["a": "drover-secret:v1:AAAA"]) }
        #expect(throws: ConfigSecretsError.self) { try box.sealSecrets(in: ["secrets": ["k": "drover-secret:v1:AAAA"]]) }
    }

    @Test("MASTER_SECRET_KEY: base64 of 32 bytes is used as is; any other text is hashed with SHA-256")
    func masterKeyFromText() throws {
        let raw = Data((0..<32).map { UInt8($0) })
        let (fromBase64, source) = try MasterKey.resolve(configured: raw.base64EncodedString(), keyFile: nil)
        #expect(fromBase64.withUnsafeBytes { Data($0) } == raw)
        #expect(source.contains("base64"))
        let (fromText, textSource) = try MasterKey.resolve(configured: "correct horse battery staple", keyFile: nil)
        #expect(fromText.withUnsafeBytes { Data($0) } == Data(SHA256.hash(data: Data("correct horse battery staple".utf8))))
        #expect(textSource.contains("SHA-256"))
        // Base64 of another length is text, not a key.
        let (short, _) = try MasterKey.resolve(configured: Data(repeating: 1, count: 16).base64EncodedString(), keyFile: nil)
        #expect(short.bitCount == 256)
    }

    @Test("without MASTER_SECRET_KEY: a key file beside the store, mode 0600, written once and read after")
    func masterKeyFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("drover-key-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = MasterKey.keyFile(forDatabase: directory.appendingPathComponent("drover.db").path)
        #expect(file.hasSuffix("drover.db.master-key"))
        let (first, created) = try MasterKey.resolve(configured: nil, keyFile: file)
        #expect(created.contains("new key file"))
        let attributes = try FileManager.default.attributesOfItem(atPath: file)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let (second, _) = try MasterKey.resolve(configured: nil, keyFile: file)
        #expect(first == second)
        try "garbage".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(throws: MasterKeyError.self) { try MasterKey.resolve(configured: nil, keyFile: file) }
        #expect(throws: MasterKeyError.self) { try MasterKey.resolve(configured: nil, keyFile: "/nonexistent-dir/x.master-key") }
    }
}

@Suite("Server TLS files")
struct ServerTLSTests {
    @Test("good files load; missing, empty, non-PEM and mismatched ones are refused with the file named")
    func files() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("drover-stls-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: directory) }
        let good = try TestCertificates.make(in: directory.appendingPathComponent("a"))
        let other = try TestCertificates.make(in: directory.appendingPathComponent("b"))
        _ = try ServerTLS.configuration(certificatePath: good.serverCertificate, keyPath: good.serverKey)
        let empty = directory.appendingPathComponent("empty.pem").path
        #expect(FileManager.default.createFile(atPath: empty, contents: Data()))
        func message(_ certificate: String, _ key: String) -> String {
            do {
                _ = try ServerTLS.configuration(certificatePath: certificate, keyPath: key)
                return "loaded"
            } catch {
                return "\(error)"
            }
        }
        #expect(message("/nope.pem", good.serverKey).contains("/nope.pem does not exist"))
        #expect(message(empty, good.serverKey).contains("is empty"))
        #expect(message(good.serverKey, good.serverKey).contains("not a PEM certificate"))
        #expect(message(good.serverCertificate, good.serverCertificate).contains("not an unencrypted PEM private key"))
        #expect(message(good.serverCertificate, other.serverKey).contains("does not belong to the certificate"))
    }
}
