public import Foundation
import RegentAudit
import RegentCore
import SQLKit

extension SQLStore {
    /// Every table but the schema's own, in an order that satisfies their references.
    static let copiedTables = [
        "principals", "memberships", "targets", "roles", "entitlements", "policies", "requests", "assignments",
        "jobs", "audit_checkpoints", "settings", "sessions", "totp_enrollments", "login_failures", "token_keys",
        "issued_credentials", "alerts", "alert_settings", "notifications", "notification_preferences",
        "review_definitions", "review_instances", "principal_managers", "ssh_certificates",
    ]

    /// How many rows of each table ``copy(to:)`` wrote, the audit chain's events under `audit_events`.
    public typealias CopyReport = [(table: String, rows: Int)]

    /// Copies everything in this store into `target`, which must be empty (no audit event, no
    /// principal), in one transaction of the target: all of it or none. The audit chain is copied
    /// event by event as it was hashed (the same sequence numbers, texts and hashes), so it verifies
    /// on the target as it did here. Both are at this build's schema (opening migrated them).
    public func copy(to target: SQLStore) async throws -> CopyReport {
        let empty = try await target.transaction(.read) { tx in
            let head = try await tx.auditHead().seq
            let principals = try await tx.principals(limit: 1)
            return head == 0 && principals.isEmpty
        }
        guard empty else { throw RegentError.invalid("to", "the target database is not empty") }
        var tables: [(name: String, columns: [StoreTransaction.Column], rows: [any SQLRow])] = []
        let events = try await transaction(.read) { tx in
            var events: [AuditEvent] = []
            while true {
                let page = try await tx.auditEvents(after: events.last?.seq ?? 0, limit: 5000)
                if page.isEmpty { return events }
                events += page
            }
        }
        for table in Self.copiedTables {
            let columns = try await target.transaction(.read) { try await $0.columns(of: table) }
            let rows = try await transaction(.read) { tx in
                try await tx.db.raw("SELECT * FROM \(unsafeRaw: table)").all()
            }
            tables.append((table, columns, rows))
        }
        let copied = tables
        try await target.transaction { tx in
            for (table, columns, rows) in copied {
                for row in rows { try await tx.insertCopied(row, into: table, columns: columns) }
            }
            for event in events { try await tx.insertAuditEvent(event) }
        }
        return [("audit_events", events.count)] + tables.map { ($0.name, $0.rows.count) }
    }
}

extension StoreTransaction {
    struct Column: Sendable {
        var name: String
        var isInteger: Bool
    }

    /// A table's columns as this database declares them.
    func columns(of table: String) async throws -> [Column] {
        let query: SQLQueryString =
            switch dialect {
            case .sqlite: "SELECT name, type FROM pragma_table_info(\(bind: table))"
            case .postgresql:
                """
                SELECT column_name AS name, data_type AS type FROM information_schema.columns
                WHERE table_schema = current_schema() AND table_name = \(bind: table)
                """
            }
        return try await db.raw(query).all().map {
            Column(name: try $0.string("name"), isInteger: try $0.string("type").uppercased().contains("INT"))
        }
    }

    /// One row read from another database, written with this one's column types.
    func insertCopied(_ row: any SQLRow, into table: String, columns: [Column]) async throws {
        var insert = SQLQueryString("INSERT INTO \(unsafeRaw: table) (")
        insert.appendInterpolation(unsafeRaw: columns.map(\.name).joined(separator: ", "))
        insert.appendInterpolation(unsafeRaw: ") VALUES (")
        for (index, column) in columns.enumerated() {
            if index > 0 { insert.appendInterpolation(unsafeRaw: ", ") }
            if try !row.contains(column: column.name) || row.decodeNil(column: column.name) {
                insert.appendInterpolation(unsafeRaw: "NULL")
            } else if column.isInteger {
                insert.appendInterpolation(bind: try row.int64(column.name))
            } else {
                insert.appendInterpolation(bind: try row.string(column.name))
            }
        }
        insert.appendInterpolation(unsafeRaw: ")")
        try await db.raw(insert).run()
    }
}
