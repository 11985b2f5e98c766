import Foundation
import OpenAPIRuntime
import RegentAPI
import RegentAudit
import RegentCore
import RegentEngine

/// Exports of the audit log and the assignment report, in the format asked for.
extension APIHandler {
    func exportAudit(_ input: Operations.ExportAudit.Input) async throws -> Operations.ExportAudit.Output {
        let (_, actor) = try Caller.required()
        let query = input.query
        let filter = try await auditFilter(
            from: query.from, to: query.to, actor: query.actor, action: query.action,
            outcome: query.outcome?.rawValue, principal: query.principal, role: query.role,
            correlationId: query.correlationId, by: actor)
        let filters: [(name: String, value: String)] = [
            ("from", query.from.map { $0.formatted(.iso8601) }), ("to", query.to.map { $0.formatted(.iso8601) }),
            ("actor", query.actor), ("action", query.action), ("outcome", query.outcome?.rawValue),
            ("principal", query.principal), ("role", query.role), ("correlationId", query.correlationId),
        ].compactMap { name, value in value.map { (name, $0) } }
        let format = try Self.format(query.format)
        let data = try await engine.auditLog.exportAudit(filter, filters: filters, format: format, by: actor)
        return .ok(.init(body: Self.body(data, format, as: Operations.ExportAudit.Output.Ok.Body.self)))
    }

    func reportAssignments(_ input: Operations.ReportAssignments.Input) async throws
        -> Operations.ReportAssignments.Output
    {
        let (_, actor) = try Caller.required()
        let query = input.query
        var filter = AssignmentFilter()
        if let name = query.role { filter.roleId = try await engine.directory.role(named: name).id }
        if let name = query.principal {
            filter.principalIds = [try await engine.directory.principal(named: name, by: actor).id]
        }
        if let kind = query.kind { filter.kind = Assignment.Kind(rawValue: kind.rawValue) }
        let filters: [(name: String, value: String)] = [
            ("role", query.role), ("principal", query.principal), ("kind", query.kind?.rawValue),
        ].compactMap { name, value in value.map { (name, $0) } }
        let format = try Self.format(query.format)
        let data = try await engine.auditLog.assignmentReport(filter, filters: filters, format: format, by: actor)
        return .ok(.init(body: Self.body(data, format, as: Operations.ReportAssignments.Output.Ok.Body.self)))
    }

    private static func format(_ format: Components.Parameters.ExportFormat) throws -> ExportFormat {
        guard let format = ExportFormat(rawValue: format.rawValue) else {
            throw APIProblem.invalid("format", "csv, jsonl, xlsx or pdf")
        }
        return format
    }

    private static func body<Body: ExportBody>(_ data: Data, _ format: ExportFormat, as: Body.Type) -> Body {
        let body = HTTPBody(data)
        return switch format {
        case .csv: .csv(body)
        case .jsonl: .applicationXNdjson(body)
        case .xlsx: .applicationVnd_openxmlformatsOfficedocument_spreadsheetml_sheet(body)
        case .pdf: .pdf(body)
        }
    }
}

/// The generated bodies of the two export operations, which have the same four cases.
protocol ExportBody {
    static func csv(_ body: HTTPBody) -> Self
    static func applicationXNdjson(_ body: HTTPBody) -> Self
    static func applicationVnd_openxmlformatsOfficedocument_spreadsheetml_sheet(_ body: HTTPBody) -> Self
    static func pdf(_ body: HTTPBody) -> Self
}

extension Operations.ExportAudit.Output.Ok.Body: ExportBody {}
extension Operations.ReportAssignments.Output.Ok.Body: ExportBody {}
