import Foundation
import Hummingbird
import RegentAPI
import RegentAudit
import RegentCore
import RegentEngine

/// The audit log in the browser: filters, paging by sequence number, each event's details and
/// hash, and the chain's verification status. Readable by those the engine lets read it.
extension Portal {
    func auditPage(_ request: Request) async throws -> Response {
        guard let (_, actor) = signedIn() else { return Self.redirect("/login") }
        let query = request.uri.queryParameters
        func value(_ name: String) -> String? {
            query[Substring(name)].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        }
        do {
            let (filter, given) = try await auditFilter(value, by: actor)
            let before = value("before").flatMap { Int64($0) }
            let events = try await engine.auditLog.searchAudit(filter, by: actor, before: before, limit: 50)
            let report = try await engine.auditLog.verifyAudit(by: actor)
            var rows: [[String: Any]] = []
            for event in events {
                rows.append([
                    "seq": event.seq, "time": try Self.dates.encode(event.time), "actor": event.actor.name,
                    "action": event.action, "outcome": event.outcome.rawValue,
                    "details": event.details.sorted { $0.key < $1.key }.map { ["key": $0.key, "value": $0.value] }
                        + [["key": "reason", "value": event.reason ?? ""], ["key": "hash", "value": event.hash]],
                ])
            }
            var next: String?
            if events.count == 50, let last = events.last {
                var components = URLComponents()
                components.path = "/audit"
                components.queryItems =
                    ["action", "actor", "role", "outcome", "from", "to"].compactMap { name in
                        value(name).map { URLQueryItem(name: name, value: $0) }
                    } + [URLQueryItem(name: "before", value: String(last.seq))]
                next = components.string
            }
            var exportLink = URLComponents()
            exportLink.path = "/audit/export"
            let exports = ExportFormat.allCases.map { format -> [String: String] in
                exportLink.queryItems =
                    given.map { URLQueryItem(name: $0.name, value: $0.value) } + [
                        URLQueryItem(name: "format", value: format.rawValue)
                    ]
                return ["format": format.rawValue.uppercased(), "href": exportLink.string ?? "/audit/export"]
            }
            return try await page(
                "audit", title: "Audit log",
                [
                    "events": rows, "next": next as Any, "intact": report.isIntact, "exports": exports,
                    "chain": report.isIntact
                        ? "intact (\(report.verifiedEvents) events, \(report.verifiedCheckpoints) signed checkpoints)"
                        : "BROKEN: \(report.problem.map { "\($0)" } ?? "")",
                    "filter": [
                        "action": value("action") ?? "", "actor": value("actor") ?? "", "role": value("role") ?? "",
                        "from": value("from") ?? "", "to": value("to") ?? "",
                    ],
                ])
        } catch let error as RegentError {
            return try await page(
                "audit", title: "Audit log", ["error": error.reason, "intact": true, "chain": "not checked"],
                status: error.pageStatus)
        }
    }

    /// The search the page's filter fields describe, and those fields as given.
    func auditFilter(_ value: (String) -> String?, by actor: ActorContext) async throws -> (
        AuditFilter, [(name: String, value: String)]
    ) {
        var filter = AuditFilter()
        filter.action = value("action")
        filter.outcome = value("outcome").flatMap(AuditOutcome.init)
        if let actorName = value("actor") {
            filter.actorId = try await engine.directory.principal(named: actorName, by: actor).id
        }
        if let roleName = value("role") { filter.subjectRoleId = try await engine.directory.role(named: roleName).id }
        filter.from = value("from").flatMap(Self.localTime)
        filter.to = value("to").flatMap(Self.localTime)
        let given = ["action", "actor", "role", "outcome", "from", "to"].compactMap { name in
            value(name).map { (name: name, value: $0) }
        }
        return (filter, given)
    }

    /// `datetime-local` values are read as UTC.
    static func localTime(_ text: String) -> Date? {
        try? Date.ISO8601FormatStyle().parse(text.count == 16 ? text + ":00Z" : text + "Z")
    }
}
