public import Foundation
public import RegentAudit
public import RegentCore
import RegentStore

/// Reports and exports: the audit log (with its chain hashes and checkpoints) and who holds
/// which role where. Each export is itself audited: what was taken out, in which format, by whom.
extension Engine {
    /// The most events one export holds; a longer range is exported in several time slices.
    public static let exportLimit = 100_000

    func recordExport(
        _ action: AuditAction, format: ExportFormat, rows: Int, filters: [(name: String, value: String)],
        by actor: ActorContext, now: Date
    ) async throws {
        try await store.transaction { tx in
            try await self.audit(
                AuditNote(
                    action,
                    details: [
                        "format": format.rawValue, "rows": String(rows),
                        "filters": filters.map { "\($0.name)=\($0.value)" }.joined(separator: "; "),
                    ]),
                in: tx, context: AuditContext(actor: actor.auditActor, subject: AuditSubject(), correlationId: nil),
                now: now)
        }
    }
}

extension AuditService {
    public func exportAudit(
        _ filter: AuditFilter, filters: [(name: String, value: String)], format: ExportFormat, by actor: ActorContext
    ) async throws -> Data {
        try await engine.authorize(actor, .readAudit)
        let now = engine.clock.now()
        let (events, checkpoints) = try await engine.store.transaction { tx in
            (try await tx.searchAudit(filter, before: nil, limit: Engine.exportLimit), try await tx.checkpoints())
        }
        try await engine.recordExport(
            .auditExported, format: format, rows: events.count, filters: filters, by: actor, now: now)
        if format == .jsonl {
            return AuditExport.jsonLines(events, checkpoints: checkpoints, filters: filters, generatedAt: now)
        }
        let table = AuditExport.table(events, checkpoints: checkpoints, filters: filters, generatedAt: now)
        return try (format == .pdf ? AuditExport.printable(table) : table).export(as: format)
    }

    /// Who holds which role where, eligible and active (in force or scheduled), with the end and,
    /// for eligibilities, the last activation.
    public func assignmentReport(
        _ filter: AssignmentFilter, filters: [(name: String, value: String)], format: ExportFormat,
        by actor: ActorContext
    ) async throws -> Data {
        try await engine.authorize(actor, .readEverything)
        let now = engine.clock.now()
        var query = filter
        query.states = query.states ?? AssignmentFilter.live
        let reportQuery = query
        let rows = try await engine.store.transaction { tx -> [[String]] in
            let principals = Dictionary(
                try await tx.principals(limit: 1_000_000).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            let roles = Dictionary(
                try await tx.roles(limit: 1_000_000).map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
            let lastActivations = try await tx.lastActivations()
            return try await tx.assignments(reportQuery, limit: Engine.exportLimit).map { assignment in
                let principal = principals[assignment.principalId]
                return [
                    principal?.name ?? assignment.principalId.description, principal?.kind.rawValue ?? "",
                    roles[assignment.roleId] ?? assignment.roleId.description, assignment.scope.path,
                    assignment.isActivation ? "activation" : assignment.kind.rawValue, assignment.state.rawValue,
                    assignment.start.formatted(.iso8601), assignment.end?.formatted(.iso8601) ?? "permanent",
                    lastActivations[assignment.id]?.formatted(.iso8601) ?? "",
                ]
            }.sorted { ($0[0], $0[2], $0[3]) < ($1[0], $1[2], $1[3]) }
        }
        try await engine.recordExport(
            .reportExported, format: format, rows: rows.count, filters: filters, by: actor, now: now)
        return try ReportTable(
            title: "Regent assignments", filters: filters, generatedAt: now,
            sheets: [
                .init(
                    name: "Assignments",
                    columns: [
                        "principal", "principalKind", "role", "scope", "kind", "state", "start", "end",
                        "lastActivation",
                    ],
                    rows: rows)
            ]
        ).export(as: format)
    }
}
