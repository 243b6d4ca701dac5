import DroverCore
import DroverStore
import Foundation

/// Node join tokens and node credentials: joining once, revoking at once.
extension ClusterController {
    /// Admits a node presenting a join token: checks its `hello`, uses the token up (it works
    /// once), revokes the node's earlier credentials and issues a new one.
    ///
    /// Returns the node's principal for the session and the credential's secret for `welcome`.
    func join(_ hello: NodeProtocol.Hello, token: APITokenRecord) async throws -> (principal: Principal, credential: String) {
        try NodeIdentity.validate(hello)
        guard hello.tenant == token.tenant else {
            throw HelloRefusal("this join token is for tenant '\(token.tenant)', but hello names tenant '\(hello.tenant.prefix(64))'")
        }
        if let existing = model.node(id: hello.nodeID), existing.tenant != token.tenant {
            throw HelloRefusal("node id '\(hello.nodeID)' is taken; choose another --id")
        }
        // Re-joining a node that lost its credential is fine; taking over one that is connected is not.
        if await sessions.isConnected(nodeID: hello.nodeID) {
            throw HelloRefusal("node '\(hello.nodeID)' is connected; a join token cannot take it over (choose another --id)")
        }
        let now = Date()
        guard token.expiresAt.map({ now < $0 }) ?? true else { throw HelloRefusal("this join token has expired; ask for a new one") }
        guard try await store.consumeJoinToken(id: token.id, nodeID: hello.nodeID, at: now) else {
            throw HelloRefusal("this join token was already used or revoked; ask for a new one")
        }
        try await revokeNodeCredentials(nodeID: hello.nodeID, tenant: token.tenant, at: now, disconnect: false)
        let secret = Authenticator.makeNodeCredentialSecret()
        let record = APITokenRecord(
            id: Identifiers.make("crd"), tenant: token.tenant, name: "node-\(hello.nodeID)", secretHash: Secrets.sha256Hex(secret),
            createdAt: now, kind: .node, nodeID: hello.nodeID, sourceID: token.id
        )
        try await store.insertAPIToken(record)
        logger.info("node joined with a join token", metadata: ["node": "\(hello.nodeID)", "tenant": "\(token.tenant)", "join_token": "\(token.id)"])
        await recordEvent("node.joined", node: hello.nodeID, "joined with join token \(token.id); issued node credential \(record.id)")
        return (Principal(role: .node, tenant: token.tenant, subject: hello.nodeID, credential: record.id), secret)
    }

    /// Revokes a stored credential of `tenant` and everything issued for it (a join token's node
    /// credentials), and ends at once every session they opened. `false` when there is no such credential.
    func revokeCredential(id: String, tenant: String, kinds: Set<CredentialKind>) async throws -> Bool {
        let tokens = try await store.apiTokens(tenant: tenant)
        guard let token = tokens.first(where: { $0.id == id }), kinds.contains(token.kind) else { return false }
        let now = Date()
        try await store.revokeAPIToken(id: id, tenant: tenant, at: now)
        var ended = await sessions.disconnect(credential: id)
        for issued in tokens where issued.sourceID == id {
            try await store.revokeAPIToken(id: issued.id, tenant: tenant, at: now)
            ended += await sessions.disconnect(credential: issued.id)
        }
        logger.notice("credential revoked", metadata: ["credential": "\(id)", "kind": "\(token.kind.rawValue)", "disconnected": "\(ended)"])
        for nodeID in ended {
            await recordEvent("node.disconnected", node: nodeID, "credential \(id) was revoked; the session was ended")
        }
        return true
    }

    /// Revokes every live credential of one node (it was removed, or joined again).
    func revokeNodeCredentials(nodeID: String, tenant: String, at now: Date = Date(), disconnect: Bool = true) async throws {
        for token in try await store.apiTokens(tenant: tenant) where token.kind == .node && token.nodeID == nodeID && token.revokedAt == nil {
            try await store.revokeAPIToken(id: token.id, tenant: tenant, at: now)
            if disconnect { await sessions.disconnect(credential: token.id) }
        }
    }
}
