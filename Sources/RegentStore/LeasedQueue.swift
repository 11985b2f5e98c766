import Foundation
import RegentAudit
import SQLKit

/// The one lease mechanism of the job queue and the notification outbox (separate tables, so a
/// mail outage never competes with revocations). A row is due when its time has come and no
/// live lease holds it; claiming counts the attempt and leases the row to this replica, so the
/// work of a runner that died comes back when its lease ends, and a runner renews the leases of
/// what it is still running; retrying frees a row for a later time. Rows of one lane (the jobs of
/// one assignment or request) are never leased to two runners at once, so a grant and the
/// revocation that follows it never race, whichever replicas run them. Each queue names its
/// table, which rows are still pending, its claim order, and whether it has lanes: Regent's own
/// static SQL.
struct LeasedQueue {
    static let jobs = LeasedQueue(
        table: "jobs", pending: "dead = 0",
        order: "CASE kind WHEN 'revoke' THEN 0 WHEN 'timer' THEN 1 ELSE 2 END, due_at DESC, id", hasLanes: true)
    static let notifications = LeasedQueue(
        table: "notifications", pending: "sent_at IS NULL AND abandoned_at IS NULL", order: "due_at, created_at",
        hasLanes: false)

    let table: StaticString
    /// Rows not yet finished, e.g. `dead = 0`.
    let pending: StaticString
    /// The claim order, e.g. risk first.
    let order: StaticString
    /// Whether rows carry a `lane` that at most one live lease may hold.
    let hasLanes: Bool

    /// Leases up to `limit` due rows to `owner` until `now + lease` and returns them with the
    /// attempt this claim counts. `narrowing` adds Regent's own conditions, e.g. one kind of job.
    /// Runs in a `.claim` transaction: claims are serialised among themselves (so a lane's lease
    /// is seen by the next claimer) but not with changes, whose rows in flight are skipped.
    func claim(
        in tx: StoreTransaction, now: Date, lease: TimeInterval, limit: Int, narrowing: SQLQueryString? = nil
    ) async throws -> [(row: any SQLRow, attempt: Int)] {
        var select = SQLQueryString(
            "SELECT * FROM \(unsafeRaw: "\(table)") WHERE \(unsafeRaw: "\(pending)") AND due_at <= ")
        select.appendInterpolation(bind: now.milliseconds)
        select.appendInterpolation(unsafeRaw: " AND (lease_until IS NULL OR lease_until <= ")
        select.appendInterpolation(bind: now.milliseconds)
        select.appendInterpolation(unsafeRaw: ")")
        if hasLanes {
            select.appendInterpolation(
                unsafeRaw:
                    " AND NOT EXISTS (SELECT 1 FROM \(table) held WHERE held.lane = \(table).lane AND held.id <> \(table).id AND held.lease_until > "
            )
            select.appendInterpolation(bind: now.milliseconds)
            select.appendInterpolation(unsafeRaw: ")")
        }
        if let narrowing { select += " AND " + narrowing }
        select.appendInterpolation(unsafeRaw: " ORDER BY \(order) LIMIT ")
        select.appendInterpolation(bind: limit)
        select.appendInterpolation(unsafeRaw: tx.dialect.skipLocked)
        var claimed: [(row: any SQLRow, attempt: Int)] = []
        for row in try await tx.db.raw(select).all() {
            let attempt = Int(try row.int64("attempts")) + 1
            var update = SQLQueryString("UPDATE \(unsafeRaw: "\(table)") SET attempts = ")
            update.appendInterpolation(bind: attempt)
            update.appendInterpolation(unsafeRaw: ", lease_until = ")
            update.appendInterpolation(bind: (now + lease).milliseconds)
            update.appendInterpolation(unsafeRaw: ", lease_owner = ")
            update.appendInterpolation(bind: tx.replica)
            update.appendInterpolation(unsafeRaw: " WHERE id = ")
            update.appendInterpolation(bind: try row.string("id"))
            try await tx.db.raw(update).run()
            claimed.append((row, attempt))
        }
        return claimed
    }

    /// Extends this replica's leases on rows it is still working on.
    func renew(_ ids: [String], until time: Date, in tx: StoreTransaction) async throws {
        guard !ids.isEmpty else { return }
        var update = SQLQueryString("UPDATE \(unsafeRaw: "\(table)") SET lease_until = ")
        update.appendInterpolation(bind: time.milliseconds)
        update.appendInterpolation(unsafeRaw: " WHERE lease_owner = ")
        update.appendInterpolation(bind: tx.replica)
        update.appendInterpolation(unsafeRaw: " AND id IN (")
        update.appendInterpolation(binds: ids)
        update.appendInterpolation(unsafeRaw: ")")
        try await tx.db.raw(update).run()
    }

    /// When a runner must next look: the earliest due time of a pending row, or the end of the
    /// lease that holds it.
    func nextDue(in db: any SQLDatabase) async throws -> Date? {
        try await db.raw(
            SQLQueryString(
                """
                SELECT MIN(CASE WHEN lease_until IS NOT NULL AND lease_until > due_at THEN lease_until ELSE due_at END)
                  AS next FROM \(unsafeRaw: "\(table)") WHERE \(unsafeRaw: "\(pending)")
                """)
        ).first()?.optionalInt64("next").map(Date.init(milliseconds:))
    }

    /// Frees the row to run again at `time`, keeping why the last attempt failed.
    func retry(_ id: String, error: String, at time: Date, in db: any SQLDatabase) async throws {
        var update = SQLQueryString("UPDATE \(unsafeRaw: "\(table)") SET lease_until = NULL, due_at = ")
        update.appendInterpolation(bind: time.milliseconds)
        update.appendInterpolation(unsafeRaw: ", last_error = ")
        update.appendInterpolation(bind: String(error.prefix(1000)))
        update.appendInterpolation(unsafeRaw: " WHERE id = ")
        update.appendInterpolation(bind: id)
        try await db.raw(update).run()
    }
}
