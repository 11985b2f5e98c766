public import Foundation
public import RegentAudit
public import RegentCore
import SQLKit

extension StoreTransaction {
    /// Appends an event to the chain inside this transaction: if the change rolls back, so does its
    /// record, and if the record cannot be written, the change fails with it.
    @discardableResult
    public func appendAudit(_ draft: AuditDraft) async throws -> AuditEvent {
        // The head is read and rewritten in the transaction of the change; changes are serialised
        // (one SQLite writer; on PostgreSQL the change lock every change takes first), so appenders
        // on every replica extend one chain.
        guard let head = try await db.raw("SELECT seq, hash FROM audit_head WHERE id = 1").first() else {
            throw StoreError.corrupt("the audit head row is missing")
        }
        let event = AuditEvent(seq: try head.int64("seq") + 1, draft: draft, prevHash: try head.string("hash"))
        try await insertAuditEvent(event)
        return event
    }

    /// Writes a chained event and moves the head to it: appended here, or copied from another
    /// database as it was hashed (`regent migrate`).
    func insertAuditEvent(_ event: AuditEvent) async throws {
        var exact = ExactTexts()
        let texts = (
            actor: exact.column("actor_name", event.actor.name),
            source: exact.column("source_address", event.actor.sourceAddress),
            agent: exact.column("user_agent", event.actor.userAgent), action: exact.column("action", event.action),
            scope: exact.column("subject_scope", event.subject.scope?.path),
            reason: exact.column("reason", event.reason),
            correlation: exact.column("correlation_id", event.correlationId)
        )
        try await db.raw(
            """
            INSERT INTO audit_events (seq, id, time, actor_id, actor_name, source_address, user_agent, action,
                                      subject_principal_id, subject_role_id, subject_scope, outcome, reason,
                                      correlation_id, details, prev_hash, hash, exact_texts)
            VALUES (\(bind: event.seq), \(bind: event.id.uuidString.lowercased()), \(bind: event.time.milliseconds),
                    \(bind: event.actor.principalId?.description), \(bind: texts.actor), \(bind: texts.source),
                    \(bind: texts.agent), \(bind: texts.action), \(bind: event.subject.principalId?.description),
                    \(bind: event.subject.roleId?.description), \(bind: texts.scope), \(bind: event.outcome.rawValue),
                    \(bind: texts.reason), \(bind: texts.correlation), \(bind: try json(event.details)),
                    \(bind: event.prevHash), \(bind: event.hash), \(bind: exact.stored.isEmpty ? nil : try json(exact.stored)))
            """
        ).run()
        try await db.raw("UPDATE audit_head SET seq = \(bind: event.seq), hash = \(bind: event.hash) WHERE id = 1")
            .run()
    }

    /// The last sequence number and hash of the chain.
    public func auditHead() async throws -> (seq: Int64, hash: String) {
        guard let head = try await db.raw("SELECT seq, hash FROM audit_head WHERE id = 1").first() else {
            throw StoreError.corrupt("the audit head row is missing")
        }
        return (try head.int64("seq"), try head.string("hash"))
    }

    /// Events with `seq` > `after`, in order, at most `limit`.
    public func auditEvents(after: Int64, limit: Int) async throws -> [AuditEvent] {
        try await db.raw(
            "SELECT * FROM audit_events WHERE seq > \(bind: after) ORDER BY seq LIMIT \(bind: limit)"
        ).all().map(auditEvent(from:))
    }

    public func insertCheckpoint(_ checkpoint: Checkpoint) async throws {
        try await db.raw(
            """
            INSERT INTO audit_checkpoints (seq, hash, time, public_key, signature)
            VALUES (\(bind: checkpoint.seq), \(bind: checkpoint.hash), \(bind: checkpoint.time.milliseconds),
                    \(bind: checkpoint.publicKey), \(bind: checkpoint.signature))
            """
        ).run()
    }

    public func checkpoints() async throws -> [Checkpoint] {
        try await db.raw("SELECT * FROM audit_checkpoints ORDER BY seq").all().map {
            Checkpoint(
                seq: try $0.int64("seq"), hash: try $0.string("hash"), time: try $0.date("time"),
                publicKey: try $0.string("public_key"), signature: try $0.string("signature"))
        }
    }

    /// A hashed text read back exactly: from `exact_texts` when it was kept there, else its
    /// column (an SQLite row written before schema 12 may hold it as a BLOB of its UTF-8 bytes).
    private func exactText(_ column: String, in row: any SQLRow, exact: [String: String]) throws -> String? {
        if let text = exact[column] { return text }
        do {
            return try row.decode(column: column, as: String?.self)
        } catch {
            return String(decoding: try row.decode(column: column, as: Data.self), as: UTF8.self)
        }
    }

    private func auditEvent(from row: any SQLRow) throws -> AuditEvent {
        let idText = try row.string("id")
        guard let id = UUID(uuidString: idText) else { throw StoreError.corrupt("audit id \(idText)") }
        let exact =
            try row.optionalString("exact_texts").map {
                try decodeJSON([String: String].self, $0, "audit exact texts")
            } ?? [:]
        func text(_ column: String) throws -> String? { try exactText(column, in: row, exact: exact) }
        func required(_ column: String) throws -> String {
            guard let value = try text(column) else { throw StoreError.corrupt("audit \(column) is missing") }
            return value
        }
        let scope = try text("subject_scope")
        return AuditEvent(
            seq: try row.int64("seq"), id: id, time: try row.date("time"),
            actor: AuditActor(
                principalId: try row.optionalID("actor_id"), name: try required("actor_name"),
                sourceAddress: try text("source_address"), userAgent: try text("user_agent")),
            action: try required("action"),
            subject: AuditSubject(
                principalId: try row.optionalID("subject_principal_id"), roleId: try row.optionalID("subject_role_id"),
                scope: try scope.map { try Scope(parsing: $0) }),
            outcome: try row.enumValue("outcome", as: AuditOutcome.self), reason: try text("reason"),
            correlationId: try text("correlation_id"),
            details: try decodeJSON([String: String].self, try row.string("details"), "audit details"),
            prevHash: try row.string("prev_hash"), hash: try row.string("hash"))
    }
}

extension StoreTransaction {
    /// Matching events, newest first, with `seq` below `before` when given.
    public func searchAudit(_ filter: AuditFilter, before: Int64?, limit: Int) async throws -> [AuditEvent] {
        var query = SQLListQuery("SELECT * FROM audit_events")
        if let from = filter.from { query.where("time >=", from.milliseconds) }
        if let to = filter.to { query.where("time <", to.milliseconds) }
        if let actor = filter.actorId { query.where("actor_id =", actor.description) }
        if let action = filter.action {
            if action.hasSuffix(".") {
                query.where("action LIKE", action.replacingOccurrences(of: "%", with: "") + "%")
            } else {
                query.where("action =", action)
            }
        }
        if let outcome = filter.outcome { query.where("outcome =", outcome.rawValue) }
        if let principal = filter.subjectPrincipalId { query.where("subject_principal_id =", principal.description) }
        if let role = filter.subjectRoleId { query.where("subject_role_id =", role.description) }
        if let correlation = filter.correlationId { query.where("correlation_id =", correlation) }
        return try await db.raw(
            query.page(.highestSequenceFirst, after: before.map { ListPosition(value: $0, key: "") }, limit: limit)
        ).all().map(auditEvent(from:))
    }
}

/// The one place that decides how a hashed audit text is stored. Neither database hands back a
/// TEXT holding U+0000 as it was given (SQLite stops reading at it, PostgreSQL refuses it), and
/// the chain's hash covers every byte: such a text goes to its column in a display form (U+0000
/// shown as U+FFFD, so searches and listings still work) and, exactly, into `exact_texts`, a JSON
/// object (whose escapes both databases keep) that reading prefers. Every other text is its
/// column alone.
struct ExactTexts {
    private(set) var stored: [String: String] = [:]

    mutating func column(_ name: String, _ text: String?) -> String? {
        guard let text, text.utf8.contains(0) else { return text }
        stored[name] = text
        return text.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}")
    }
}
