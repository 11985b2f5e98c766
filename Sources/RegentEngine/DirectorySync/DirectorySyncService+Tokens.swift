public import Foundation
import RegentAudit
public import RegentCore
import RegentStore

/// The bearer tokens SCIM clients authenticate with: made by an administrator, shown once,
/// stored as a hash, revocable, and good for SCIM only (they are not sessions, so no other
/// endpoint accepts them, and a session token is not a SCIM token).
extension DirectorySyncService {
    public struct NewToken: Sendable {
        public var record: SCIMTokenRecord
        public var token: String
    }

    public func createToken(name: String, by actor: ActorContext) async throws -> NewToken {
        let now = engine.clock.now()
        return try await engine.audited(
            actor: actor, subject: AuditSubject(), action: .scimTokenCreateRefused, now: now
        ) {
            guard (1...100).contains(name.count), !name.contains(where: { $0.isNewline || $0 == "\u{0}" }) else {
                throw RegentError.invalid("name", "a SCIM token name is 1–100 characters on one line")
            }
            let token = "scim_" + Engine.newToken().dropFirst(4)
            let record = SCIMTokenRecord(
                id: UUID().uuidString.lowercased(), name: name, createdBy: actor.principalId, createdAt: now)
            try await engine.store.transaction { tx in
                try await engine.authorize(actor.principalId, .managePrincipals, in: tx, now: now)
                try await tx.insertSCIMToken(record, hash: Engine.hash(token))
                try await engine.audit(
                    AuditNote(.scimTokenCreated, details: ["tokenId": record.id, "name": name]), in: tx,
                    context: Engine.AuditContext(actor: actor.auditActor, subject: AuditSubject(), correlationId: nil),
                    now: now)
            }
            return NewToken(record: record, token: token)
        }
    }

    public func tokens(by actor: ActorContext) async throws -> [SCIMTokenRecord] {
        try await engine.authorize(actor, .managePrincipals)
        return try await engine.store.transaction { try await $0.scimTokens() }
    }

    public func revokeToken(id: String, by actor: ActorContext) async throws {
        let now = engine.clock.now()
        try await engine.audited(actor: actor, subject: AuditSubject(), action: .scimTokenRevokeRefused, now: now) {
            try await engine.store.transaction { tx in
                try await engine.authorize(actor.principalId, .managePrincipals, in: tx, now: now)
                guard try await tx.revokeSCIMToken(id: id, at: now) else {
                    throw RegentError(.notFound, "no such SCIM token in use", field: "tokenId")
                }
                try await engine.audit(
                    AuditNote(.scimTokenRevoked, details: ["tokenId": id]), in: tx,
                    context: Engine.AuditContext(actor: actor.auditActor, subject: AuditSubject(), correlationId: nil),
                    now: now)
            }
        }
    }

    /// The client a SCIM bearer token stands for; nil for anything else (revoked, unknown, a
    /// session or API token).
    public func authenticate(token: String) async throws -> DirectoryClient? {
        guard token.hasPrefix("scim_"), token.count < 200 else { return nil }
        let hash = Engine.hash(token)
        return try await engine.store.transaction { try await $0.scimToken(hash: hash) }.map {
            DirectoryClient(tokenId: $0.id, name: $0.name)
        }
    }
}
