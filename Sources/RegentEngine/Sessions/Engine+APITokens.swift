public import Foundation
import RegentAudit
public import RegentCore
import RegentStore

/// API tokens for scripts: random, shown once, stored as a hash, expiring, revocable, and made
/// only from a signed-in session (a token cannot mint tokens).
extension Engine {
    public static let maximumAPITokenLifetime = ISODuration.days(90)

    public struct NewAPIToken: Sendable {
        public var id: String
        public var token: String
        public var expiresAt: Date
    }

}

extension SessionService {
    public func createAPIToken(
        name: String, lifetime: ISODuration, access: TokenAccess, session: Authenticated,
        by actor: ActorContext
    ) async throws -> Engine.NewAPIToken {
        guard !session.isAPIToken else {
            throw RegentError(
                .accessDenied, "API tokens are made from a signed-in session, not from another token", field: "actor")
        }
        guard (1...100).contains(name.count), !name.contains(where: \.isNewline) else {
            throw RegentError.invalid("name", "a token name is 1–100 characters on one line")
        }
        guard lifetime >= .minutes(5), lifetime <= Engine.maximumAPITokenLifetime else {
            throw RegentError.invalid("expiresIn", "a token lasts 5 minutes to \(Engine.maximumAPITokenLifetime)")
        }
        let now = engine.clock.now()
        let token = Engine.newToken()
        let id = UUID().uuidString.lowercased()
        var stored = StoredSession(
            tokenHash: Engine.hash(token), principalId: actor.principalId, createdAt: now, lastSeenAt: now,
            expiresAt: now + lifetime, sourceAddress: actor.sourceAddress?.description)
        stored.kind = .token
        stored.id = id
        stored.name = name
        stored.access = access
        let record = stored
        try await engine.store.transaction { tx in
            try await tx.insertSession(record)
            try await engine.audit(
                AuditNote(
                    .authTokenCreated,
                    details: ["tokenId": id, "access": access.rawValue, "expiresAt": record.expiresAt.rfc3339]),
                in: tx,
                context: Engine.AuditContext(
                    actor: actor.auditActor, subject: AuditSubject(principalId: actor.principalId), correlationId: nil),
                now: now)
        }
        return Engine.NewAPIToken(id: id, token: token, expiresAt: stored.expiresAt)
    }

    public func apiTokens(of actor: ActorContext) async throws -> [APIToken] {
        try await engine.store.transaction { try await $0.apiTokens(of: actor.principalId) }.map {
            APIToken(
                id: $0.id ?? "", name: $0.name ?? "", access: $0.access, createdAt: $0.createdAt,
                expiresAt: $0.expiresAt, revokedAt: $0.revokedAt)
        }
    }

    public func revokeAPIToken(id: String, by actor: ActorContext) async throws {
        let now = engine.clock.now()
        let revokedHash = try await engine.store.transaction { tx -> String in
            guard let hash = try await tx.revokeAPIToken(id: id, of: actor.principalId, at: now) else {
                throw RegentError(.notFound, "no such active token of yours", field: "tokenId")
            }
            try await engine.audit(
                AuditNote(.authTokenRevoked, details: ["tokenId": id]), in: tx,
                context: Engine.AuditContext(
                    actor: actor.auditActor, subject: AuditSubject(principalId: actor.principalId), correlationId: nil),
                now: now)
            return hash
        }
        engine.sessionCache.invalidate(revokedHash)
    }
}
