public import Foundation
import Logging
import RegentAudit
import RegentConnectors
import RegentCore
import RegentStore

/// Running due jobs: timers (starts, expiries, stage timeouts, escalations), grants and revocations.
/// Jobs are claimed with a lease, handled idempotently, and retried with backoff when they fail.
extension Engine {
    /// Runs every job due now, oldest due first, and returns how many ran.
    @discardableResult
    public func runDueJobs(batchSize: Int = 64) async throws -> Int {
        var handled = 0
        while true {
            let now = clock.now()
            let jobs = try await store.transaction { tx in
                try await tx.claimDueJobs(now: now, lease: self.configuration.jobLease, limit: batchSize)
            }
            if jobs.isEmpty { return handled }
            for job in jobs {
                await run(job)
                handled += 1
            }
        }
    }

    /// When the scheduler should next look: the earliest due job, or after the idle limit.
    public func nextWake() async throws -> Date {
        let now = clock.now()
        let idle = now.addingTimeInterval(configuration.maximumIdle)
        guard let due = try await store.transaction({ try await $0.nextJobDue() }) else { return idle }
        return min(due, idle)
    }

    private func run(_ job: Job) async {
        do {
            try await handle(job)
        } catch {
            let now = clock.now()
            let dead = job.attempts >= configuration.maximumJobAttempts
            // Exponential backoff with jitter, capped at five minutes.
            let backoff = min(300, pow(2, Double(job.attempts))) * Double.random(in: 0.8...1.2)
            logger.warning(
                "job failed", metadata: ["job": "\(job.kind)", "attempt": "\(job.attempts)", "error": "\(error)"])
            do {
                try await store.transaction { tx in
                    try await tx.failJob(
                        job.id, error: "\(error)", retryAt: dead ? nil : now.addingTimeInterval(backoff))
                    if dead {
                        try await self.audit(
                            AuditNote("job.failed", .failed, reason: "\(error)", details: ["job": "\(job.kind)"]),
                            in: tx,
                            context: AuditContext(actor: .system, subject: AuditSubject(), correlationId: nil), now: now
                        )
                    }
                }
            } catch {
                // The lease expires and the job is claimed again: nothing is lost.
                logger.error("cannot record job failure", metadata: ["error": "\(error)"])
            }
        }
    }

    private func handle(_ job: Job) async throws {
        switch job.kind {
        case .timer(let timer):
            try await fire(timer, job: job)
        case .grant(let id):
            try await provision(id, job: job, granting: true)
        case .revoke(let id):
            try await provision(id, job: job, granting: false)
        }
    }

    private func fire(_ timer: TimerKind, job: Job) async throws {
        let now = clock.now()
        let applied = try await store.transaction { tx -> Applied in
            var applied = Applied()
            switch timer {
            case .assignmentExpiry(let id):
                guard var assignment = try await tx.assignment(id: id) else { break }
                let isLast = try await self.isLastAdministrator(assignment, in: tx, now: now)
                let effects = assignment.expire(now: now, isLastAdministrator: isLast)
                applied = try await self.apply(effects, in: tx, context: self.systemContext(assignment), now: now)
            case .assignmentStart(let id):
                guard var assignment = try await tx.assignment(id: id) else { break }
                applied = try await self.apply(
                    assignment.begin(now: now), in: tx, context: self.systemContext(assignment), now: now)
                if assignment.state == .active, let requestId = assignment.requestId,
                    var request = try await tx.request(id: requestId)
                {
                    let effects = request.assignmentStarted(kind: assignment.kind, now: now)
                    try await tx.saveRequest(request)
                    applied.merge(
                        try await self.apply(effects, in: tx, context: self.systemContext(assignment), now: now))
                }
            case .stageTimeout(let requestId, let stage), .escalation(let requestId, let stage):
                guard var request = try await tx.request(id: requestId) else { break }
                let effects =
                    if case .stageTimeout = timer { request.stageTimedOut(stage: stage, now: now) } else {
                        request.escalate(stage: stage, now: now)
                    }
                guard !effects.isEmpty else { break }
                try await tx.saveRequest(request)
                applied = try await self.apply(
                    effects, in: tx,
                    context: AuditContext(
                        actor: .system, subject: request.auditSubject, correlationId: requestId.description), now: now)
            }
            try await tx.completeJob(job.id)
            return applied
        }
        afterCommit(applied)
    }

    /// Grants or revokes every entitlement of the assignment's role through its target's connector.
    /// A role whose entitlements have no connector here fails loudly rather than pretending.
    private func provision(_ id: Assignment.ID, job: Job, granting: Bool) async throws {
        let loaded = try await store.transaction { tx -> (Assignment, [GrantSpec])? in
            guard let assignment = try await tx.assignment(id: id), let role = try await tx.role(id: assignment.roleId),
                let principal = try await tx.principal(id: assignment.principalId)
            else { return nil }
            var specs: [GrantSpec] = []
            for entitlement in role.entitlements {
                guard let target = try await tx.target(id: entitlement.targetId) else { continue }
                specs.append(
                    GrantSpec(
                        target: target, value: entitlement.value,
                        account: GrantSpec.account(for: principal.name, on: target),
                        assignmentId: assignment.id, requestId: assignment.requestId, until: assignment.end))
            }
            return (assignment, specs)
        }
        guard let (assignment, specs) = loaded else {
            try await store.transaction { try await $0.completeJob(job.id) }
            return
        }
        // A grant for an assignment that ended meanwhile is skipped; its revoke job follows.
        let stale = granting && assignment.state != .active
        var failure: ProvisionError?
        if !stale {
            for spec in specs {
                guard let provisioner = provisioners.provisioner(for: spec.target.kind) else {
                    failure = ProvisionError(
                        transient: false, "no \(spec.target.kind.rawValue) connector is configured")
                    break
                }
                do {
                    if granting { try await provisioner.grant(spec) } else { try await provisioner.revoke(spec) }
                } catch {
                    failure = error
                    break
                }
            }
        }
        if let failure, failure.isTransient { throw failure }
        let outcome = failure
        let now = clock.now()
        let applied = try await store.transaction { tx -> Applied in
            var applied = Applied()
            let context = self.systemContext(assignment)
            if !stale {
                let verb = granting ? "grant" : "revoke"
                let note =
                    outcome.map { AuditNote("grant.\(verb)_failed", .failed, reason: $0.reason) }
                    ?? AuditNote(
                        granting ? "grant.applied" : "grant.revoked", details: ["entitlements": String(specs.count)])
                try await self.audit(note, in: tx, context: context, now: now)
            }
            if granting, !stale, let requestId = assignment.requestId, var request = try await tx.request(id: requestId)
            {
                let effects =
                    outcome.map { request.provisioningFailed(reason: $0.reason, now: now) }
                    ?? request.provisioned(now: now)
                try await tx.saveRequest(request)
                applied = try await self.apply(effects, in: tx, context: context, now: now)
            }
            try await tx.completeJob(job.id)
            return applied
        }
        afterCommit(applied)
    }

    private func isLastAdministrator(_ assignment: Assignment, in tx: StoreTransaction, now: Date) async throws -> Bool
    {
        guard assignment.kind == .active, let role = try await tx.role(id: assignment.roleId),
            role.name == Role.BuiltIn.regentAdmin.rawValue
        else { return false }
        let others = try await tx.assignments(AssignmentFilter(roleId: role.id, kind: .active, states: [.active]))
            .filter { $0.id != assignment.id && $0.isInForce(at: now) }
        return others.isEmpty
    }

    func systemContext(_ assignment: Assignment) -> AuditContext {
        AuditContext(actor: .system, subject: assignment.auditSubject, correlationId: assignment.requestId?.description)
    }
}
