import Foundation
import RegentAudit
import SQLKit

/// The one lease mechanism of the job queue and the notification outbox (separate tables, so a
/// mail outage never competes with revocations). A row is due when its time has come and no
/// live lease holds it; claiming counts the attempt and leases the row, so the work of a runner
/// that died comes back when its lease ends; retrying frees it for a later time. Each queue names
/// its table, which rows are still pending, and its claim order: Regent's own static SQL.
struct LeasedQueue {
    static let jobs = LeasedQueue(
        table: "jobs", pending: "dead = 0",
        order: "CASE kind WHEN 'revoke' THEN 0 WHEN 'timer' THEN 1 ELSE 2 END, due_at DESC, id")
    static let notifications = LeasedQueue(
        table: "notifications", pending: "sent_at IS NULL AND abandoned_at IS NULL", order: "due_at, created_at")

    let table: StaticString
    /// Rows not yet finished, e.g. `dead = 0`.
    let pending: StaticString
    /// The claim order, e.g. risk first.
    let order: StaticString

    /// Leases up to `limit` due rows until `now + lease` and returns them with the attempt this
    /// claim counts. `narrowing` adds Regent's own conditions, e.g. one kind of job.
    func claim(
        in db: any SQLDatabase, now: Date, lease: TimeInterval, limit: Int, narrowing: SQLQueryString? = nil
    ) async throws -> [(row: any SQLRow, attempt: Int)] {
        var select = SQLQueryString(
            "SELECT * FROM \(unsafeRaw: "\(table)") WHERE \(unsafeRaw: "\(pending)") AND due_at <= ")
        select.appendInterpolation(bind: now.milliseconds)
        select.appendInterpolation(unsafeRaw: " AND (lease_until IS NULL OR lease_until <= ")
        select.appendInterpolation(bind: now.milliseconds)
        select.appendInterpolation(unsafeRaw: ")")
        if let narrowing { select += " AND " + narrowing }
        select.appendInterpolation(unsafeRaw: " ORDER BY \(order) LIMIT ")
        select.appendInterpolation(bind: limit)
        var claimed: [(row: any SQLRow, attempt: Int)] = []
        for row in try await db.raw(select).all() {
            let attempt = Int(try row.int64("attempts")) + 1
            var update = SQLQueryString("UPDATE \(unsafeRaw: "\(table)") SET attempts = ")
            update.appendInterpolation(bind: attempt)
            update.appendInterpolation(unsafeRaw: ", lease_until = ")
            update.appendInterpolation(bind: (now + lease).milliseconds)
            update.appendInterpolation(unsafeRaw: " WHERE id = ")
            update.appendInterpolation(bind: try row.string("id"))
            try await db.raw(update).run()
            claimed.append((row, attempt))
        }
        return claimed
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
