public import Foundation
import RegentAudit
public import RegentCore
import SQLKit

extension StoreTransaction {
    public func enqueue(_ job: Job, now: Date) async throws {
        try await db.raw(
            """
            INSERT INTO jobs (id, kind, payload, due_at, attempts, lease_until, last_error, dead, created_at, lane)
            VALUES (\(bind: job.id.uuidString.lowercased()), \(bind: job.kind.label), \(bind: try json(job.kind)),
                    \(bind: job.dueAt.milliseconds), 0, NULL, NULL, 0, \(bind: now.milliseconds), \(bind: job.lane))
            """
        ).run()
    }

    /// Hands out up to `limit` due jobs, leasing them until `now + lease` so a crashed runner's jobs
    /// come back. Risk first: revocations, then timers (expiries make revocations), then grants;
    /// within each, the most recently due first.
    ///
    /// - Parameter timersOnly: only timers (state changes in the database, no connector calls).
    public func claimDueJobs(now: Date, lease: TimeInterval, limit: Int, timersOnly: Bool = false) async throws
        -> [Job]
    {
        let kinds = timersOnly ? ["timer"] : ["timer", "grant", "revoke"]
        return try await LeasedQueue.jobs.claim(
            in: self, now: now, lease: lease, limit: limit, narrowing: "kind IN (\(binds: kinds))"
        ).map { row, attempt in
            let id = try row.string("id")
            guard let uuid = UUID(uuidString: id) else { throw StoreError.corrupt("job id \(id)") }
            return Job(
                id: uuid, kind: try decodeJSON(Job.Kind.self, try row.string("payload"), "job payload"),
                dueAt: try row.date("due_at"), attempts: attempt, lastError: try row.optionalString("last_error"),
                createdAt: try row.date("created_at"))
        }
    }

    /// At start, frees the leases a process that is gone took. An SQLite file has one server, so
    /// every lease in it is such a lease, and its jobs run now rather than when the lease runs
    /// out. On PostgreSQL other live replicas hold leases: none is freed, and a dead replica's
    /// leases end by themselves (their runner renews them while it lives).
    public func releaseLeasesOfEndedRunners() async throws {
        guard dialect == .sqlite else { return }
        try await db.raw("UPDATE jobs SET lease_until = NULL WHERE lease_until IS NOT NULL").run()
    }

    /// Extends this replica's leases on the jobs it is still running.
    public func renewJobLeases(_ ids: [UUID], until time: Date) async throws {
        try await LeasedQueue.jobs.renew(ids.map { $0.uuidString.lowercased() }, until: time, in: self)
    }

    /// The job ran: it leaves the queue (its outcome is in the audit log).
    public func completeJob(_ id: UUID) async throws {
        try await db.raw("DELETE FROM jobs WHERE id = \(bind: id.uuidString.lowercased())").run()
    }

    /// The job failed: it runs again at `retryAt`, or is kept as dead (visible, not deleted) when `retryAt` is nil.
    public func failJob(_ id: UUID, error: String, retryAt: Date?) async throws {
        let id = id.uuidString.lowercased()
        if let retryAt {
            try await LeasedQueue.jobs.retry(id, error: error, at: retryAt, in: db)
        } else {
            try await db.raw(
                "UPDATE jobs SET last_error = \(bind: error), lease_until = NULL, dead = 1 WHERE id = \(bind: id)"
            ).run()
        }
    }

    /// When the scheduler must next wake up: the earliest due job, or the end of the lease on it.
    public func nextJobDue() async throws -> Date? { try await LeasedQueue.jobs.nextDue(in: db) }

    public func pendingJobCount() async throws -> Int {
        Int(try await db.raw("SELECT COUNT(*) AS n FROM jobs WHERE dead = 0").first()?.int64("n") ?? 0)
    }

    /// Whether a job of exactly this kind is waiting (not dead), so the reconciler does not pile up
    /// grants for a target that is down.
    public func hasPendingJob(_ kind: Job.Kind) async throws -> Bool {
        try await db.raw("SELECT 1 AS found FROM jobs WHERE dead = 0 AND payload = \(bind: try json(kind)) LIMIT 1")
            .first() != nil
    }

    /// Revocations that failed at least `attempts` times and are still being retried.
    public func failingRevocations(attempts: Int, limit: Int = 1000, after position: ListPosition? = nil)
        async throws -> [Job]
    {
        var query = SQLListQuery("SELECT * FROM jobs")
        query.where("dead =", 0)
        query.where("kind =", "revoke")
        query.where("attempts >=", attempts)
        return try await db.raw(query.page(.oldestFirst, after: position, limit: limit)).all().map(job)
    }

    public func deadJobs() async throws -> [Job] {
        try await db.raw("SELECT * FROM jobs WHERE dead = 1 ORDER BY due_at").all().map(job)
    }

    func job(_ row: any SQLRow) throws -> Job {
        Job(
            id: UUID(uuidString: try row.string("id")) ?? UUID(),
            kind: try decodeJSON(Job.Kind.self, try row.string("payload"), "job payload"),
            dueAt: try row.date("due_at"),
            attempts: Int(try row.int64("attempts")), lastError: try row.optionalString("last_error"),
            createdAt: try row.date("created_at"))
    }
}
