public import Foundation
import RegentAudit
import RegentConnectors
import RegentCore
import RegentStore

/// Role tokens for apps: an Ed25519 JWT of the caller's active roles that never outlives the
/// earliest of them (and at most 15 minutes), verifiable through the published JWKS.
extension Engine {
    public static let maximumTokenLifetime: TimeInterval = 900

    public struct IssuedToken: Sendable {
        public var token: String
        public var expiresAt: Date
        public var roles: Int
    }

    func signingKey(in tx: StoreTransaction, now: Date, rotation: TimeInterval) async throws -> TokenKey {
        if let current = try await tx.tokenKeys().first(where: { $0.retiredAt == nil }),
            now.timeIntervalSince(current.createdAt) < rotation
        {
            return current
        }
        try await tx.retireTokenKeys(at: now)
        return try await createTokenKey(in: tx, now: now)
    }

    func createTokenKey(in tx: StoreTransaction, now: Date) async throws -> TokenKey {
        let (privateKey, publicKey) = try TokenIssuer.generateKey()
        let key = TokenKey(
            kid: String(UUID().uuidString.lowercased().prefix(8)), sealedPrivateKey: try secrets.seal(privateKey),
            publicKey: publicKey, createdAt: now, retiredAt: nil)
        try await tx.insertTokenKey(key)
        return key
    }
}

extension ProvisioningService {
    public func issueRoleToken(for actor: ActorContext, issuer: String) async throws -> Engine.IssuedToken {
        let now = engine.clock.now()
        let rotation = engine.configuration.tokenKeyRotation
        let (claims, key) = try await engine.store.transaction { tx -> ([(RoleClaim, Date?)], TokenKey) in
            let identities = try await tx.membershipGraph().identities(of: actor.principalId)
            var claims: [(RoleClaim, Date?)] = []
            for assignment in try await tx.assignments(
                AssignmentFilter(principalIds: identities, kind: .active, states: [.active]))
            where assignment.isInForce(at: now) {
                guard let role = try await tx.role(id: assignment.roleId) else { continue }
                claims.append(
                    (
                        RoleClaim(
                            role: role.name, roleId: role.id.description, scope: assignment.scope.path,
                            until: assignment.end), assignment.end
                    ))
            }
            return (claims, try await engine.signingKey(in: tx, now: now, rotation: rotation))
        }
        let earliestEnd = claims.compactMap(\.1).min() ?? .distantFuture
        let expiresAt = min(now.addingTimeInterval(Engine.maximumTokenLifetime), earliestEnd)
        let id = UUID().uuidString.lowercased()
        let token = try await TokenIssuer.sign(
            RoleToken(
                issuer: issuer, subject: actor.principalId.description, name: actor.name, issuedAt: now,
                expiresAt: expiresAt,
                id: id, roles: claims.map(\.0)),
            privateKey: try engine.secrets.open(key.sealedPrivateKey), kid: key.kid)
        try await engine.store.transaction { tx in
            try await engine.audit(
                AuditNote(
                    .tokenIssued,
                    details: ["jti": id, "kid": key.kid, "expiresAt": expiresAt.rfc3339, "roles": String(claims.count)]),
                in: tx,
                context: Engine.AuditContext(
                    actor: actor.auditActor, subject: AuditSubject(principalId: actor.principalId), correlationId: nil),
                now: now)
        }
        return Engine.IssuedToken(token: token, expiresAt: expiresAt, roles: claims.count)
    }

    /// Keys to publish: the current one and those retired less than a token lifetime ago, so tokens
    /// signed before a rotation still verify.
    public func tokenPublicKeys() async throws -> [(kid: String, publicKey: Data)] {
        let now = engine.clock.now()
        return try await engine.store.transaction { try await $0.tokenKeys() }
            .filter { key in key.retiredAt.map { now.timeIntervalSince($0) < Engine.maximumTokenLifetime } ?? true }
            .map { ($0.kid, $0.publicKey) }
    }

    /// Retires the current signing key and makes a new one; audited.
    public func rotateTokenKey(by actor: ActorContext?) async throws {
        let now = engine.clock.now()
        try await engine.store.transaction { tx in
            try await tx.retireTokenKeys(at: now)
            let key = try await engine.createTokenKey(in: tx, now: now)
            try await engine.audit(
                AuditNote(.tokenKeyRotated, details: ["kid": key.kid]), in: tx,
                context: Engine.AuditContext(
                    actor: actor?.auditActor ?? .system, subject: AuditSubject(), correlationId: nil),
                now: now)
        }
    }
}
