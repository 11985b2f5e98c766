import Foundation
import RegentAudit
import RegentCore
import RegentStore

/// Performing the effects a transition returned, inside the use case's transaction.
extension Engine {
    /// What a use case's transaction produced, to act on after commit.
    struct Applied: Sendable {
        var assignments: [Assignment] = []
        var enqueuedJobs = false
        var enqueuedNotifications = false

        mutating func merge(_ other: Applied) {
            assignments += other.assignments
            enqueuedJobs = enqueuedJobs || other.enqueuedJobs
            enqueuedNotifications = enqueuedNotifications || other.enqueuedNotifications
        }
    }

    /// The audit context of a transition: who, about what, under which request.
    struct AuditContext: Sendable {
        var actor: AuditActor
        var subject: AuditSubject
        var correlationId: String?
    }

    func apply(_ effects: [Effect], in tx: StoreTransaction, context: AuditContext, now: Date) async throws -> Applied {
        var applied = Applied()
        var notices: [Notice] = []
        for effect in effects {
            switch effect {
            case .audit(let note):
                try await audit(note, in: tx, context: context, now: now)
            case .notify(let notice):
                notices.append(notice)
            case .saveAlert(let alert):
                try await tx.saveAlert(alert)
            case .saveReview(let instance):
                try await tx.saveReviewInstance(instance)
            case .schedule(let timer, let at):
                try await tx.enqueue(Job(id: UUID(), kind: .timer(timer), dueAt: at), now: now)
                applied.enqueuedJobs = true
            case .saveAssignment(let assignment):
                try await tx.saveAssignment(assignment)
                applied.assignments.removeAll { $0.id == assignment.id }
                applied.assignments.append(assignment)
            case .grant(let id):
                try await tx.enqueue(Job(id: UUID(), kind: .grant(id), dueAt: now), now: now)
                applied.enqueuedJobs = true
            case .revoke(let id):
                try await tx.enqueue(Job(id: UUID(), kind: .revoke(id), dueAt: now), now: now)
                applied.enqueuedJobs = true
            case .closeRequest(let requestId, let reason):
                guard var request = try await tx.request(id: requestId) else { continue }
                let closing = request.assignmentEnded(because: reason, now: now)
                guard !closing.isEmpty else { continue }
                try await tx.saveRequest(request)
                var requestContext = context
                requestContext.correlationId = requestId.description
                applied.merge(try await apply(closing, in: tx, context: requestContext, now: now))
            }
        }
        if try await enqueue(notices, in: tx, now: now) {
            applied.enqueuedNotifications = true
        }
        return applied
    }

    /// Runs `body`; a refusal it throws is written to the audit log before it is rethrown. If that
    /// record cannot be written either, the caller gets `unavailable`: nothing goes unrecorded.
    func audited<R: Sendable>(
        actor: ActorContext, subject: AuditSubject, action: AuditAction, correlationId: String? = nil, now: Date,
        _ body: () async throws -> R
    ) async throws -> R {
        try await audited(
            as: actor.auditActor, subject: subject, action: action, correlationId: correlationId, now: now, body)
    }

    /// ``audited(actor:subject:action:correlationId:now:_:)`` for an actor that is not a
    /// principal (a SCIM client).
    func audited<R: Sendable>(
        as actor: AuditActor, subject: AuditSubject, action: AuditAction, correlationId: String? = nil, now: Date,
        _ body: () async throws -> R
    ) async throws -> R {
        do {
            return try await body()
        } catch let error as RegentError {
            // Policy denials were stored and audited with their request already.
            if error.code == .policyViolation || error.code == .mfaRequired { throw error }
            do {
                try await store.transaction { tx in
                    try await self.audit(
                        AuditNote(
                            action, .denied, reason: error.reason,
                            details: ["code": error.code.rawValue, "field": error.field ?? ""]),
                        in: tx,
                        context: AuditContext(actor: actor, subject: subject, correlationId: correlationId),
                        now: now)
                }
            } catch {
                throw RegentError(.unavailable, "the refusal could not be recorded: \(error)")
            }
            throw error
        }
    }

    func audit(_ note: AuditNote, in tx: StoreTransaction, context: AuditContext, now: Date) async throws {
        let event = try await tx.appendAudit(
            AuditDraft(
                id: UUID(), time: now, actor: context.actor, action: note.action, subject: context.subject,
                outcome: note.outcome, reason: note.reason, correlationId: context.correlationId, details: note.details)
        )
        if let signer, event.seq % configuration.checkpointEvery == 0 {
            try await tx.insertCheckpoint(try signer.checkpoint(seq: event.seq, hash: event.hash, time: now))
        }
        // Before the commit: the monitor's read waits for this transaction, and if it misses it the
        // next audited change or its interval brings it back.
        auditWakeup.signal()
    }

    /// Acts on a committed transaction: the index sees new assignment states, the scheduler new
    /// jobs, the notifier new messages.
    func afterCommit(_ applied: Applied) {
        index.update(applied.assignments)
        if applied.enqueuedJobs { wakeup.signal() }
        if applied.enqueuedNotifications { noticeWakeup.signal() }
    }

}

extension Request {
    var auditSubject: AuditSubject { AuditSubject(principalId: principalId, roleId: roleId, scope: scope) }
}

extension Assignment {
    var auditSubject: AuditSubject { AuditSubject(principalId: principalId, roleId: roleId, scope: scope) }
}

extension AuditService {
    /// Signs a checkpoint of the chain head when events were added since the last one and the
    /// interval has passed (or `force`).
    public func checkpointIfDue(force: Bool) async throws {
        guard let signer = engine.signer else { return }
        let now = engine.clock.now()
        let interval = engine.configuration.checkpointInterval
        try await engine.store.transaction { tx in
            let head = try await tx.auditHead()
            let last = try await tx.checkpoints().last
            guard head.seq > (last?.seq ?? 0) else { return }
            guard force || now.timeIntervalSince(last?.time ?? .distantPast) >= interval else { return }
            try await tx.insertCheckpoint(try signer.checkpoint(seq: head.seq, hash: head.hash, time: now))
        }
    }
}
