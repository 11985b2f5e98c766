public import Foundation
import RegentAudit
public import RegentCore
import SQLKit

/// A signed-in session (or, later, an API token), keyed by the SHA-256 of its bearer secret so a
/// copy of the database never yields a usable credential.
public struct StoredSession: Hashable, Sendable {
    public enum Kind: String, Sendable {
        /// A sign-in: idle timeout and absolute lifetime.
        case session
        /// An API token for scripts: absolute expiry only.
        case token
    }

    public typealias Access = TokenAccess

    public var kind: Kind = .session
    public var id: String?
    public var name: String?
    public var access: Access = .full
    public var tokenHash: String
    public var principalId: Principal.ID
    public var createdAt: Date
    public var lastSeenAt: Date
    public var expiresAt: Date
    public var mfaVerifiedAt: Date?
    /// How MFA was met: `totp`, or the provider's `amr:…` / `acr:…`.
    public var mfaMethod: String?
    public var sourceAddress: String?
    public var revokedAt: Date?

    public init(
        tokenHash: String, principalId: Principal.ID, createdAt: Date, lastSeenAt: Date, expiresAt: Date,
        mfaVerifiedAt: Date? = nil, sourceAddress: String? = nil, revokedAt: Date? = nil
    ) {
        self.tokenHash = tokenHash
        self.principalId = principalId
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
        self.expiresAt = expiresAt
        self.mfaVerifiedAt = mfaVerifiedAt
        self.sourceAddress = sourceAddress
        self.revokedAt = revokedAt
    }
}

extension StoreTransaction {
    public func insertSession(_ session: StoredSession) async throws {
        try await db.raw(
            """
            INSERT INTO sessions (token_hash, principal_id, kind, created_at, last_seen_at, expires_at, mfa_verified_at,
                                  source_address, revoked_at, id, name, access, mfa_method)
            VALUES (\(bind: session.tokenHash), \(bind: session.principalId.description), \(bind: session.kind.rawValue),
                    \(bind: session.createdAt.milliseconds), \(bind: session.lastSeenAt.milliseconds),
                    \(bind: session.expiresAt.milliseconds), \(bind: session.mfaVerifiedAt?.milliseconds),
                    \(bind: session.sourceAddress), NULL, \(bind: session.id), \(bind: session.name),
                    \(bind: session.access.rawValue), \(bind: session.mfaMethod))
            """
        ).run()
    }

    public func session(tokenHash: String) async throws -> StoredSession? {
        guard let row = try await db.raw("SELECT * FROM sessions WHERE token_hash = \(bind: tokenHash)").first() else {
            return nil
        }
        return try Self.session(row)
    }

    /// A principal's API tokens, newest first, revoked ones included (history).
    public func apiTokens(of principal: Principal.ID) async throws -> [StoredSession] {
        try await db.raw(
            """
            SELECT * FROM sessions WHERE principal_id = \(bind: principal.description) AND kind = 'token'
            ORDER BY created_at DESC
            """
        ).all().map(Self.session)
    }

    /// Revokes the token and returns its hash, or nil when there is no such active token.
    public func revokeAPIToken(id: String, of principal: Principal.ID, at time: Date) async throws -> String? {
        let found = try await db.raw(
            """
            SELECT token_hash FROM sessions WHERE id = \(bind: id) AND principal_id = \(bind: principal.description)
            AND kind = 'token' AND revoked_at IS NULL
            """
        ).first()
        guard let found else { return nil }
        let hash = try found.string("token_hash")
        try await revokeSession(tokenHash: hash, at: time)
        return hash
    }

    static func session(_ row: any SQLRow) throws -> StoredSession {
        var session = StoredSession(
            tokenHash: try row.string("token_hash"), principalId: try row.id("principal_id"),
            createdAt: try row.date("created_at"), lastSeenAt: try row.date("last_seen_at"),
            expiresAt: try row.date("expires_at"), mfaVerifiedAt: try row.optionalDate("mfa_verified_at"),
            sourceAddress: try row.optionalString("source_address"), revokedAt: try row.optionalDate("revoked_at"))
        session.kind = StoredSession.Kind(rawValue: try row.string("kind")) ?? .session
        session.mfaMethod = try row.optionalString("mfa_method")
        session.id = try row.optionalString("id")
        session.name = try row.optionalString("name")
        session.access = try row.optionalString("access").flatMap(StoredSession.Access.init) ?? .full
        return session
    }

    public func touchSession(tokenHash: String, at time: Date) async throws {
        try await db.raw(
            "UPDATE sessions SET last_seen_at = \(bind: time.milliseconds) WHERE token_hash = \(bind: tokenHash)"
        ).run()
    }

    public func revokeSession(tokenHash: String, at time: Date) async throws {
        recorder.record { $0.sessions.insert(tokenHash) }
        try await db.raw(
            """
            UPDATE sessions SET revoked_at = \(bind: time.milliseconds)
            WHERE token_hash = \(bind: tokenHash) AND revoked_at IS NULL
            """
        ).run()
    }

    /// Revokes every session and API token of a principal; returns their token hashes so caches
    /// can drop them.
    public func revokeSessions(of principal: Principal.ID, at time: Date) async throws -> [String] {
        let hashes = try await db.raw(
            """
            SELECT token_hash FROM sessions
            WHERE principal_id = \(bind: principal.description) AND revoked_at IS NULL
            """
        ).all().map { try $0.string("token_hash") }
        recorder.record { $0.sessions.formUnion(hashes) }
        try await db.raw(
            """
            UPDATE sessions SET revoked_at = \(bind: time.milliseconds)
            WHERE principal_id = \(bind: principal.description) AND revoked_at IS NULL
            """
        ).run()
        return hashes
    }
}
