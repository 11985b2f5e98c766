public import Foundation
import RegentAudit
public import RegentCore
import SQLKit

/// A credential a grant made for the requester, sealed until it is shown to them once.
public struct StoredCredential: Sendable, Equatable {
    public var assignmentId: Assignment.ID
    public var targetId: Target.ID
    public var login: String
    /// nil once it has been shown.
    public var sealedSecret: String?
    public var validUntil: Date?
    public var createdAt: Date
    public var retrievedAt: Date?

    public init(
        assignmentId: Assignment.ID, targetId: Target.ID, login: String, sealedSecret: String?, validUntil: Date?,
        createdAt: Date, retrievedAt: Date?
    ) {
        self.assignmentId = assignmentId
        self.targetId = targetId
        self.login = login
        self.sealedSecret = sealedSecret
        self.validUntil = validUntil
        self.createdAt = createdAt
        self.retrievedAt = retrievedAt
    }
}

extension StoreTransaction {
    /// Saves (or replaces, after a grant that ran again) the credential of an assignment on a target.
    public func saveIssuedCredential(_ credential: StoredCredential) async throws {
        try await db.raw(
            """
            DELETE FROM issued_credentials
            WHERE assignment_id = \(bind: credential.assignmentId.description)
                AND target_id = \(bind: credential.targetId.description)
            """
        ).run()
        try await db.raw(
            """
            INSERT INTO issued_credentials
                (assignment_id, target_id, login, sealed_secret, valid_until, created_at, retrieved_at)
            VALUES (\(bind: credential.assignmentId.description), \(bind: credential.targetId.description),
                    \(bind: credential.login), \(bind: credential.sealedSecret),
                    \(bind: credential.validUntil?.milliseconds), \(bind: credential.createdAt.milliseconds),
                    \(bind: credential.retrievedAt?.milliseconds))
            """
        ).run()
    }

    public func issuedCredentials(of assignment: Assignment.ID) async throws -> [StoredCredential] {
        try await db.raw(
            "SELECT * FROM issued_credentials WHERE assignment_id = \(bind: assignment.description) ORDER BY login"
        ).all().map { row in
            StoredCredential(
                assignmentId: try row.id("assignment_id"), targetId: try row.id("target_id"),
                login: try row.string("login"), sealedSecret: try row.optionalString("sealed_secret"),
                validUntil: try row.optionalDate("valid_until"), createdAt: try row.date("created_at"),
                retrievedAt: try row.optionalDate("retrieved_at"))
        }
    }

    /// Forgets the secrets once shown; the logins and times stay for the record.
    public func markCredentialsRetrieved(of assignment: Assignment.ID, at time: Date) async throws {
        try await db.raw(
            """
            UPDATE issued_credentials SET sealed_secret = NULL, retrieved_at = \(bind: time.milliseconds)
            WHERE assignment_id = \(bind: assignment.description) AND retrieved_at IS NULL
            """
        ).run()
    }
}
