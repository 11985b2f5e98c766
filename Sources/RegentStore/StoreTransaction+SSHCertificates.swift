public import Foundation
import RegentAudit
public import RegentCore
import SQLKit

/// The SSH CA's ledger: which certificate serials were issued for which assignment, until when,
/// and which are revoked, kept in the database so that every replica writes the same list.
extension StoreTransaction {
    /// - Parameter revokedAt: set only when importing a ledger kept in files by an earlier version.
    public func recordSSHCertificate(
        serial: UInt64, assignment: Assignment.ID, validBefore: Date, revokedAt: Date? = nil
    ) async throws {
        try await db.raw(
            """
            INSERT INTO ssh_certificates (serial, assignment_id, valid_before, revoked_at)
            VALUES (\(bind: Int64(bitPattern: serial)), \(bind: assignment.description),
                    \(bind: validBefore.milliseconds), \(bind: revokedAt?.milliseconds))
            """
        ).run()
        if revokedAt != nil { recorder.record { $0.sshRevocations = true } }
    }

    /// Revokes every certificate of `assignment` not revoked yet and forgets those past their end
    /// (sshd refuses them anyway, so the list stays small). Returns how many were revoked now.
    @discardableResult
    public func revokeSSHCertificates(of assignment: Assignment.ID, at now: Date) async throws -> Int {
        try await db.raw("DELETE FROM ssh_certificates WHERE valid_before <= \(bind: now.milliseconds)").run()
        let pending =
            try await db.raw(
                """
                SELECT COUNT(*) AS n FROM ssh_certificates
                WHERE assignment_id = \(bind: assignment.description) AND revoked_at IS NULL
                """
            ).first()?.int64("n") ?? 0
        guard pending > 0 else { return 0 }
        try await db.raw(
            """
            UPDATE ssh_certificates SET revoked_at = \(bind: now.milliseconds)
            WHERE assignment_id = \(bind: assignment.description) AND revoked_at IS NULL
            """
        ).run()
        recorder.record { $0.sshRevocations = true }
        return Int(pending)
    }

    public func sshRevocations(at now: Date) async throws -> SSHRevocations {
        let rows = try await db.raw(
            """
            SELECT serial, revoked_at FROM ssh_certificates
            WHERE revoked_at IS NOT NULL AND valid_before > \(bind: now.milliseconds) ORDER BY serial
            """
        ).all()
        var serials: [UInt64] = []
        var latest: Int64?
        for row in rows {
            serials.append(UInt64(bitPattern: try row.int64("serial")))
            let revokedAt = try row.int64("revoked_at")
            latest = max(latest ?? revokedAt, revokedAt)
        }
        return SSHRevocations(serials: serials.sorted(), latest: latest.map(Date.init(milliseconds:)))
    }
}
