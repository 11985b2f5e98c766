public import Foundation
import RegentCore

/// An audit search as a report. Every row carries its `prevHash` and `hash`, and the signed
/// checkpoints are added, so a reader holding the server's public key can recompute each hash
/// from the canonical encoding and check the exported range against a checkpoint without
/// trusting Regent or the file.
public enum AuditExport {
    public static let columns = [
        "seq", "time", "actor", "sourceAddress", "action", "outcome", "subjectPrincipalId", "subjectRoleId",
        "subjectScope", "reason", "correlationId", "details", "prevHash", "hash",
    ]

    /// The columns a printed page has room for: each row's `prevHash` is the row above's `hash`.
    public static let printedColumns = [
        "seq", "time", "actor", "action", "outcome", "subjectScope", "reason", "details", "hash",
    ]

    /// The export for a page: the printed columns only.
    public static func printable(_ table: ReportTable) -> ReportTable {
        var table = table
        guard let events = table.sheets.first else { return table }
        let keep = printedColumns.compactMap { events.columns.firstIndex(of: $0) }
        table.sheets[0] = .init(
            name: events.name, columns: keep.map { events.columns[$0] },
            rows: events.rows.map { row in keep.map { row[$0] } })
        return table
    }

    /// `events` in any order; they are exported oldest first.
    public static func table(
        _ events: [AuditEvent], checkpoints: [Checkpoint], filters: [(name: String, value: String)], generatedAt: Date
    ) -> ReportTable {
        let ordered = events.sorted { $0.seq < $1.seq }
        let rows = ordered.map { event -> [String] in
            [
                String(event.seq), event.time.formatted(.iso8601), event.actor.name, event.actor.sourceAddress ?? "",
                event.action, event.outcome.rawValue, event.subject.principalId?.description ?? "",
                event.subject.roleId?.description ?? "", event.subject.scope?.path ?? "", event.reason ?? "",
                event.correlationId ?? "", detailsText(event.details), event.prevHash, event.hash,
            ]
        }
        let checkpointRows = relevant(checkpoints, to: ordered).map {
            [
                String($0.seq), $0.hash, $0.time.formatted(.iso8601), String($0.time.milliseconds), $0.publicKey,
                $0.signature,
            ]
        }
        return ReportTable(
            title: "Regent audit log", filters: filters, generatedAt: generatedAt,
            sheets: [
                .init(name: "Events", columns: columns, rows: rows),
                .init(
                    name: "Checkpoints", columns: ["seq", "hash", "time", "timeMs", "publicKey", "signature"],
                    rows: checkpointRows),
            ])
    }

    /// JSON Lines with every field as the chain hashed it (absent values as null, `timeMs` exact):
    /// a header line with the filters and the checkpoints, then one event per line, oldest first.
    public static func jsonLines(
        _ events: [AuditEvent], checkpoints: [Checkpoint], filters: [(name: String, value: String)], generatedAt: Date
    ) -> Data {
        let ordered = events.sorted { $0.seq < $1.seq }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var out = Data()
        func line(_ value: some Encodable) {
            out.append((try? encoder.encode(value)) ?? Data("{}".utf8))
            out.append(0x0A)
        }
        line(
            Header(
                export: "Regent audit log",
                filters: Dictionary(filters.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a }),
                generatedAt: generatedAt.formatted(.iso8601),
                checkpoints: relevant(checkpoints, to: ordered).map {
                    .init(
                        seq: $0.seq, hash: $0.hash, timeMs: $0.time.milliseconds, publicKey: $0.publicKey,
                        signature: $0.signature)
                }))
        for event in ordered {
            line(
                Line(
                    seq: event.seq, id: event.id.uuidString.lowercased(), time: event.time.formatted(.iso8601),
                    timeMs: event.time.milliseconds, actorId: event.actor.principalId?.description,
                    actorName: event.actor.name, sourceAddress: event.actor.sourceAddress,
                    userAgent: event.actor.userAgent,
                    action: event.action, subjectPrincipalId: event.subject.principalId?.description,
                    subjectRoleId: event.subject.roleId?.description, subjectScope: event.subject.scope?.path,
                    outcome: event.outcome.rawValue, reason: event.reason, correlationId: event.correlationId,
                    details: event.details, prevHash: event.prevHash, hash: event.hash))
        }
        return out
    }

    /// The checkpoints a reader needs: those inside the exported range and the first one after it.
    static func relevant(_ checkpoints: [Checkpoint], to events: [AuditEvent]) -> [Checkpoint] {
        guard let first = events.first?.seq, let last = events.last?.seq else { return [] }
        let sorted = checkpoints.sorted { $0.seq < $1.seq }
        return sorted.filter { (first...last).contains($0.seq) } + sorted.filter { $0.seq > last }.prefix(1)
    }

    private static func detailsText(_ details: [String: String]) -> String {
        details.keys.sorted().map { "\($0)=\(details[$0] ?? "")" }.joined(separator: "; ")
    }

    struct Header: Encodable {
        struct Signed: Encodable {
            var seq: Int64
            var hash: String
            var timeMs: Int64
            var publicKey: String
            var signature: String
        }
        var export: String
        var filters: [String: String]
        var generatedAt: String
        var checkpoints: [Signed]
    }

    struct Line: Encodable {
        var seq: Int64
        var id: String
        var time: String
        var timeMs: Int64
        var actorId: String?
        var actorName: String
        var sourceAddress: String?
        var userAgent: String?
        var action: String
        var subjectPrincipalId: String?
        var subjectRoleId: String?
        var subjectScope: String?
        var outcome: String
        var reason: String?
        var correlationId: String?
        var details: [String: String]
        var prevHash: String
        var hash: String

        /// Absent values are written as null: the canonical encoding tells them from "".
        func encode(to encoder: any Encoder) throws {
            enum Key: String, CodingKey {
                case seq, id, time, timeMs, actorId, actorName, sourceAddress, userAgent, action, subjectPrincipalId
                case subjectRoleId, subjectScope, outcome, reason, correlationId, details, prevHash, hash
            }
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(seq, forKey: .seq)
            try container.encode(id, forKey: .id)
            try container.encode(time, forKey: .time)
            try container.encode(timeMs, forKey: .timeMs)
            try container.encode(actorId, forKey: .actorId)
            try container.encode(actorName, forKey: .actorName)
            try container.encode(sourceAddress, forKey: .sourceAddress)
            try container.encode(userAgent, forKey: .userAgent)
            try container.encode(action, forKey: .action)
            try container.encode(subjectPrincipalId, forKey: .subjectPrincipalId)
            try container.encode(subjectRoleId, forKey: .subjectRoleId)
            try container.encode(subjectScope, forKey: .subjectScope)
            try container.encode(outcome, forKey: .outcome)
            try container.encode(reason, forKey: .reason)
            try container.encode(correlationId, forKey: .correlationId)
            try container.encode(details, forKey: .details)
            try container.encode(prevHash, forKey: .prevHash)
            try container.encode(hash, forKey: .hash)
        }
    }
}

extension ReportTable {
    /// The report in `format`.
    public func export(as format: ExportFormat) throws(ExportError) -> Data {
        switch format {
        case .csv: CSVExporter.export(self)
        case .jsonl: JSONLinesExporter.export(self)
        case .xlsx: try XLSXExporter.export(self)
        case .pdf: PDFExporter.export(self)
        }
    }
}
