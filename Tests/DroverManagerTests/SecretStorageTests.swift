import DroverCore
import DroverStore
import Foundation
import Logging
import Testing
@testable import DroverManager

/// What the manager keeps of its own secrets: the admin token only as a hash, the JWT secret in a
/// 0600 file beside the store; a copy of the database holds neither.
@Suite("Secret storage")
struct SecretStorageTests {
    private func withStore(_ body: (SQLiteStore, String) async throws -> Void) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("drover-secrets-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("drover.db").path
        let store = try await SQLiteStore.open(path: path, logger: Logger(label: "test"))
        do {
            try await body(store, path)
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
    }

    /// Every byte of the database and its WAL, as text.
    private func databaseText(_ path: String) -> String {
        [path, path + "-wal"].compactMap { FileManager.default.contents(atPath: $0) }.map { String(decoding: $0, as: UTF8.self) }.joined()
    }

    @Test("the admin token is stored as its SHA-256 only; a later start without it still accepts it; an old clear token is replaced")
    func adminToken() async throws {
        try await withStore { store, path in
            let first = try await AdminToken.resolve(configured: nil, store: store)
            let token = try #require(first.token)
            #expect(first.generated)
            #expect(first.hash == Secrets.sha256Hex(token))
            let again = try await AdminToken.resolve(configured: nil, store: store)
            #expect(again.token == nil && !again.generated && again.hash == first.hash)
            #expect(!databaseText(path).contains(token))

            // A store from before: the token itself in meta becomes its hash.
            try await store.setMetaValue(AdminToken.legacyMetaKey, "drv_legacy_token_0123456789")
            let migrated = try await AdminToken.resolve(configured: nil, store: store)
            #expect(migrated.hash == Secrets.sha256Hex("drv_legacy_token_0123456789"))
            #expect(try await store.metaValue(AdminToken.legacyMetaKey) == "")
            let authenticator = Authenticator(
                adminTokenHash: migrated.hash, jwt: await JWTService(secret: String(repeating: "k", count: 40), lifetime: 60), store: store
            )
            #expect(try await authenticator.principal(token: "drv_legacy_token_0123456789")?.isAdmin == true)
            #expect(try await authenticator.principal(token: migrated.hash) == nil, "the hash itself is not a credential")
        }
    }

    @Test("a generated JWT secret lives in a 0600 file beside the store, not in it; one found in the store moves there")
    func jwtSecret() async throws {
        try await withStore { store, path in
            let file = JWTSecret.file(forDatabase: path)
            let secret = try await JWTSecret.resolve(configured: nil, file: file, store: store)
            #expect(secret.count == 64)
            #expect(try String(contentsOfFile: file, encoding: .utf8) == secret + "\n")
            let mode = (try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? NSNumber)?.intValue
            #expect(mode == 0o600)
            #expect(try await JWTSecret.resolve(configured: nil, file: file, store: store) == secret)
            #expect(try await store.metaValue(JWTSecret.legacyMetaKey) == nil)
            #expect(!databaseText(path).contains(secret))
            #expect(try await JWTSecret.resolve(configured: "given-secret", file: file, store: store) == "given-secret")

            try FileManager.default.removeItem(atPath: file)
            try await store.setMetaValue(JWTSecret.legacyMetaKey, "old-secret-kept-in-the-database-0123")
            #expect(try await JWTSecret.resolve(configured: nil, file: file, store: store) == "old-secret-kept-in-the-database-0123")
            #expect(try await store.metaValue(JWTSecret.legacyMetaKey) == "")
            #expect(try String(contentsOfFile: file, encoding: .utf8) == "old-secret-kept-in-the-database-0123\n")
        }
    }
}
