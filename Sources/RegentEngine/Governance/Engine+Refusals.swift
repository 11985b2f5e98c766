import Foundation
import RegentAudit
import RegentCore
import RegentStore
import Synchronization

/// What an aggregated refusal records: who asked, and why they were refused.
struct RefusalContext: Sendable, Equatable {
    var actor: AuditActor
    var reason: String
}

extension Engine {
    /// Audits a refused read (DESIGN.md §6: every authorization denial is an event) through the
    /// ``RefusalDigest``: the first refusal of an operation by an actor within
    /// `refusalAuditWindow` is written at once, the rest are counted into one event. If even the
    /// first cannot be written, the caller is told `unavailable`: nothing goes unrecorded.
    func recordRefusal(_ actor: ActorContext, operation: String, _ error: RegentError) async throws {
        let now = clock.now()
        let records = refusals.withLock {
            $0.refused(
                .init(actor: actor.principalId, operation: operation),
                context: RefusalContext(actor: actor.auditActor, reason: error.reason), at: now)
        }
        try await writeRefusals(records, now: now)
    }

    /// When the next refusal window closes, for the governance monitor's sleep.
    var nextRefusalSweep: Date? { refusals.withLock { $0.nextClose } }

    func writeRefusals(_ records: [RefusalDigest<RefusalContext>.Record], now: Date) async throws {
        guard !records.isEmpty else { return }
        do {
            try await store.transaction { tx in
                for record in records {
                    let (key, context, details): (RefusalDigest<RefusalContext>.Key, RefusalContext, [String: String]) =
                        switch record {
                        case .first(let key, let context, let at):
                            (key, context, ["count": "1", "from": at.rfc3339, "to": at.rfc3339])
                        case .repeated(let key, let context, let count, let from, let to):
                            (key, context, ["count": String(count), "from": from.rfc3339, "to": to.rfc3339])
                        }
                    try await self.audit(
                        AuditNote(
                            .authorizationDenied, .denied, reason: context.reason,
                            details: details.merging(["operation": key.operation]) { $1 }),
                        in: tx,
                        context: AuditContext(actor: context.actor, subject: AuditSubject(), correlationId: nil),
                        now: now)
                }
            }
        } catch {
            throw RegentError(.unavailable, "the refusal could not be recorded: \(error)")
        }
    }
}

extension GovernanceService {
    /// Writes the counts of every refusal window that has closed; the governance monitor calls it
    /// on every pass and wakes for ``nextRefusalSweep``, so a burst of refusals is on record when its
    /// window closes.
    public func sweepRefusals() async throws {
        let now = engine.clock.now()
        try await engine.writeRefusals(engine.refusals.withLock { $0.sweep(at: now) }, now: now)
    }
}
