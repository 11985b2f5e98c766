public import Foundation
import RegentAudit
public import RegentCore
import SQLKit

/// A principal's TOTP enrollment. `lastUsedStep` is the time step of the last accepted code: no
/// code of that step or an earlier one is ever accepted again.
public struct TOTPEnrollment: Hashable, Sendable {
    public var principalId: Principal.ID
    public var sealedSecret: String
    public var confirmedAt: Date?
    public var lastUsedStep: Int64
    public var createdAt: Date

    public init(
        principalId: Principal.ID, sealedSecret: String, confirmedAt: Date?, lastUsedStep: Int64, createdAt: Date
    ) {
        self.principalId = principalId
        self.sealedSecret = sealedSecret
        self.confirmedAt = confirmedAt
        self.lastUsedStep = lastUsedStep
        self.createdAt = createdAt
    }
}

extension StoreTransaction {
    public func saveTOTPEnrollment(_ enrollment: TOTPEnrollment) async throws {
        try await db.raw(
            "DELETE FROM totp_enrollments WHERE principal_id = \(bind: enrollment.principalId.description)"
        ).run()
        try await db.raw(
            """
            INSERT INTO totp_enrollments (principal_id, sealed_secret, confirmed_at, last_used_step, created_at)
            VALUES (\(bind: enrollment.principalId.description), \(bind: enrollment.sealedSecret),
                    \(bind: enrollment.confirmedAt?.milliseconds), \(bind: enrollment.lastUsedStep),
                    \(bind: enrollment.createdAt.milliseconds))
            """
        ).run()
    }

    public func totpEnrollment(of principal: Principal.ID) async throws -> TOTPEnrollment? {
        guard
            let row = try await db.raw(
                "SELECT * FROM totp_enrollments WHERE principal_id = \(bind: principal.description)"
            ).first()
        else { return nil }
        return TOTPEnrollment(
            principalId: try row.id("principal_id"), sealedSecret: try row.string("sealed_secret"),
            confirmedAt: try row.optionalDate("confirmed_at"), lastUsedStep: try row.int64("last_used_step"),
            createdAt: try row.date("created_at"))
    }

    public func setSessionMFAVerified(tokenHash: String, at time: Date) async throws {
        recorder.record { $0.sessions.insert(tokenHash) }
        try await db.raw(
            """
            UPDATE sessions SET mfa_verified_at = \(bind: time.milliseconds), mfa_method = 'totp'
            WHERE token_hash = \(bind: tokenHash)
            """
        ).run()
    }

    /// Forgets a principal's TOTP enrollment (an administrator's reset after a lost device).
    public func deleteTOTPEnrollment(of principal: Principal.ID) async throws -> Bool {
        let existed = try await totpEnrollment(of: principal) != nil
        try await db.raw("DELETE FROM totp_enrollments WHERE principal_id = \(bind: principal.description)").run()
        return existed
    }
}
