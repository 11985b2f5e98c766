import Foundation
public import RegentCore
import RegentStore

extension Engine {
    /// Whether this replica is ready, as RegentCore decides from what the database says now, with
    /// the audit head read in the same transaction (nil when the database does not answer).
    public func readiness() async -> (readiness: Readiness, auditSeq: Int64?) {
        let now = clock.now()
        let read = try? await store.transaction(.read) { tx in
            (
                schema: try await tx.schemaVersion(), oldestDue: try await tx.oldestDueJob(now: now),
                seq: try await tx.auditHead().seq
            )
        }
        let facts = ReadinessFacts(
            now: now, databaseAnswers: read != nil, schemaVersion: read?.schema,
            expectedSchemaVersion: SQLStore.schemaVersion, oldestDueJob: read?.oldestDue,
            hearsChanges: store.hearsChanges)
        return (Readiness.assess(facts, schedulerBound: configuration.schedulerLagBound), read?.seq)
    }
}
