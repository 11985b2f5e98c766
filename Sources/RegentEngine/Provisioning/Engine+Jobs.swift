public import Foundation
import Logging
import RegentAudit
import RegentConnectors
import RegentCore
import RegentStore

/// Running due jobs: timers (starts, expiries, stage timeouts, escalations), grants and revocations.
/// Jobs are claimed with a lease, handled idempotently, and retried with backoff when they fail.
extension Engine {

    /// Jobs about the same assignment or request share a lane and never run at the same time.
    static func lane(of job: Job) -> String {
        switch job.kind {
        case .grant(let id), .revoke(let id), .timer(.assignmentStart(let id)), .timer(.assignmentExpiry(let id)):
            "a:\(id)"
        case .timer(.stageTimeout(let id, _)), .timer(.escalation(let id, _)):
            "r:\(id)"
        }
    }

    func run(_ job: Job) async {
        do {
            try await handle(job)
        } catch {
            let now = clock.now()
            let isRevocation = if case .revoke = job.kind { true } else { false }
            let outcome = retryPolicy.afterFailure(
                attempt: job.attempts, of: isRevocation ? .revocation : .job, at: now,
                jitter: Double.random(in: 0.8...1.2))
            let (retryAt, action): (Date?, AuditAction?) =
                switch outcome {
                case .retry(let at): (at, nil)
                case .failing(let at, let alert): (at, alert ? .alertRevocationFailing : nil)
                case .dead, .abandoned: (nil, .jobFailed)
                }
            logger.warning(
                "job failed", metadata: ["job": "\(job.kind)", "attempt": "\(job.attempts)", "error": "\(error)"])
            do {
                try await store.transaction { tx in
                    try await tx.failJob(job.id, error: "\(error)", retryAt: retryAt)
                    if let action {
                        try await self.audit(
                            AuditNote(action, .failed, reason: "\(error)", details: ["job": "\(job.kind)"]), in: tx,
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

    func handle(_ job: Job) async throws {
        switch job.kind {
        case .timer(let timer):
            try await fire(timer, job: job)
        case .grant(let id):
            try await provision(id, job: job, granting: true)
        case .revoke(let id):
            try await provision(id, job: job, granting: false)
        }
    }

    func fire(_ timer: TimerKind, job: Job) async throws {
        let now = clock.now()
        let applied = try await store.transaction { tx -> Applied in
            var applied = Applied()
            switch timer {
            case .assignmentExpiry(let id):
                guard var assignment = try await tx.assignment(id: id) else { break }
                let isLast = try await self.administratorCoverage(in: tx)?.isLastCover(assignment, at: now) ?? false
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

    func systemContext(_ assignment: Assignment) -> AuditContext {
        AuditContext(actor: .system, subject: assignment.auditSubject, correlationId: assignment.requestId?.description)
    }
}

extension ProvisioningService {
    /// Runs every job due now and returns how many ran: revocations and timers first, up to
    /// `jobConcurrency` at once, the jobs of one assignment (or request) one after another in due
    /// order, so a grant and the revocation that follows it never race.
    @discardableResult
    ///
    /// - Parameter timersOnly: only the timers, which change state in the database and call no
    ///   connector: what ``start()`` catches up on before the server answers.
    public func runDueJobs(batchSize: Int = 64, timersOnly: Bool = false) async throws -> Int {
        var handled = 0
        while true {
            let now = engine.clock.now()
            let jobs = try await engine.store.transaction { tx in
                try await tx.claimDueJobs(
                    now: now, lease: engine.configuration.jobLease, limit: batchSize, timersOnly: timersOnly)
            }
            if jobs.isEmpty { return handled }
            var lanes: [String: [Job]] = [:]
            var order: [String] = []
            for job in jobs {
                let lane = Engine.lane(of: job)
                if lanes[lane] == nil { order.append(lane) }
                lanes[lane, default: []].append(job)
            }
            let concurrency = engine.configuration.jobConcurrency
            await withTaskGroup(of: Void.self) { group in
                for (started, lane) in order.enumerated() {
                    if started >= concurrency { await group.next() }
                    let queue = (lanes[lane] ?? []).sorted { $0.dueAt < $1.dueAt }
                    group.addTask {
                        for job in queue { await engine.run(job) }
                    }
                }
            }
            handled += jobs.count
        }
    }

    /// When the scheduler should next look: the earliest due job, or after the idle limit.
    public func nextWake() async throws -> Date {
        let now = engine.clock.now()
        let idle = now.addingTimeInterval(engine.configuration.maximumIdle)
        guard let due = try await engine.store.transaction({ try await $0.nextJobDue() }) else { return idle }
        return min(due, idle)
    }
}
