public import Foundation
import RegentAudit
import SQLKit

// The questions `/readyz` asks of the database, beyond whether it answers.

extension StoreTransaction {
    /// The schema version the database is at (another replica may have migrated it further).
    public func schemaVersion() async throws -> Int {
        try await db.raw("SELECT MAX(version) AS v FROM schema_migrations").first()?
            .decode(column: "v", as: Int?.self) ?? 0
    }

    /// When the job due longest ago and not yet done became due; nil when none is due.
    public func oldestDueJob(now: Date) async throws -> Date? {
        try await db.raw("SELECT MIN(due_at) AS due FROM jobs WHERE dead = 0 AND due_at <= \(bind: now.milliseconds)")
            .first()?.optionalDate("due")
    }
}
