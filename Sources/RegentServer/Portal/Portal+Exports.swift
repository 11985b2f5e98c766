import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import RegentAudit
import RegentCore
import RegentEngine

/// The export buttons: the audit search on the page and the assignment report, downloaded as
/// files. Exports go through the engine, which checks the right and audits the export.
extension Portal {
    func registerExports(on router: Router<RegentRequestContext>) {
        router.get("/audit/export") { request, _ in
            guard let (_, actor) = signedIn() else { return Self.redirect("/login") }
            let query = request.uri.queryParameters
            func value(_ name: String) -> String? {
                query[Substring(name)].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
            }
            guard let format = value("format").flatMap(ExportFormat.init) else { throw HTTPError(.badRequest) }
            do {
                let (filter, given) = try await auditFilter(value, by: actor)
                let data = try await engine.auditLog.exportAudit(filter, filters: given, format: format, by: actor)
                return download(data, format: format, name: "regent-audit")
            } catch let error as RegentError {
                return try await refusalPage(error, title: "Audit log")
            }
        }
        router.get("/admin/report") { request, _ in
            guard let (_, actor) = signedIn() else { return Self.redirect("/login") }
            guard let format = request.uri.queryParameters["format"].flatMap({ ExportFormat(rawValue: String($0)) })
            else { throw HTTPError(.badRequest) }
            do {
                let data = try await engine.auditLog.assignmentReport(
                    AssignmentFilter(), filters: [], format: format, by: actor)
                return download(data, format: format, name: "regent-assignments")
            } catch let error as RegentError {
                return try await refusalPage(error, title: "Administration")
            }
        }
    }

    private func download(_ data: Data, format: ExportFormat, name: String) -> Response {
        var headers = Self.securityHeaders(contentType: format.contentType)
        let stamp = engine.clock.now().formatted(.iso8601).filter { $0.isNumber }
        headers[.contentDisposition] = "attachment; filename=\"\(name)-\(stamp).\(format.rawValue)\""
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
