public import Foundation
import Logging
import RegentAudit
import RegentConnectors
import RegentCore
import RegentStore
import Synchronization

/// Running due jobs: timers (starts, expiries, stage timeouts, escalations), grants and revocations.
/// Jobs are claimed with a lease, handled idempotently, and retried with backoff when they fail.
extension Engine {

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

    /// Keeps the leases of the jobs this replica is still running (or waiting to run in their
    /// lane) alive, a third of a lease at a time, so another replica takes them over only when
    /// this one is gone.
    func renewLeases(of running: RunningJobs) async {
        let lease = configuration.jobLease
        while (try? await Task.sleep(for: .seconds(lease / 3))) != nil {
            let ids = running.ids
            guard !ids.isEmpty else { return }
            let until = clock.now() + lease
            do {
                try await store.transaction(.claim) { try await $0.renewJobLeases(ids, until: until) }
            } catch {
                logger.warning("cannot renew job leases", metadata: ["error": "\(error)"])
            }
        }
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
            let jobs = try await engine.store.transaction(.claim) { tx in
                try await tx.claimDueJobs(
                    now: now, lease: engine.configuration.jobLease, limit: batchSize, timersOnly: timersOnly)
            }
            if jobs.isEmpty { return handled }
            var lanes: [String: [Job]] = [:]
            var order: [String] = []
            for job in jobs {
                let lane = job.lane
                if lanes[lane] == nil { order.append(lane) }
                lanes[lane, default: []].append(job)
            }
            let concurrency = engine.configuration.jobConcurrency
            let running = RunningJobs(jobs.map(\.id))
            await withTaskGroup(of: Void.self) { group in
                let renewing = Task { await engine.renewLeases(of: running) }
                defer { renewing.cancel() }
                for (started, lane) in order.enumerated() {
                    if started >= concurrency { await group.next() }
                    let queue = (lanes[lane] ?? []).sorted { $0.dueAt < $1.dueAt }
                    group.addTask {
                        for job in queue {
                            await engine.run(job)
                            running.finished(job.id)
                        }
                    }
                }
                await group.waitForAll()
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

/// The jobs of a batch not yet finished, whose leases this replica keeps renewing.
final class RunningJobs: Sendable {
    private let running: Mutex<Set<UUID>>

    init(_ ids: [UUID]) { running = Mutex(Set(ids)) }

    var ids: [UUID] { Array(running.withLock { $0 }) }
    func finished(_ id: UUID) { _ = running.withLock { $0.remove(id) } }
}
