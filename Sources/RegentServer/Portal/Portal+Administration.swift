import Foundation
import Hummingbird
import RegentAPI
import RegentCore
import RegentEngine

/// The administration pages. Every page and form asks the engine, so the rights are exactly the
/// API's; a page the user may not read answers 403 with the reason.
extension Portal {
    /// The administration's pages, each at its own path.
    enum AdminSection: String {
        case assignments, directory, roles, targets

        var path: String { self == .assignments ? "/admin" : "/admin/\(rawValue)" }
    }

    func registerAdministration(on router: Router<RegentRequestContext>) {
        for section in [AdminSection.assignments, .directory, .roles, .targets] {
            router.get(RouterPath(section.path)) { request, _ in
                try await adminSection(
                    section, notice: Self.notices[request.uri.queryParameters["done"].map(String.init) ?? ""])
            }
        }
        router.post("/admin/assign") { request, _ in try await assign(request) }
        router.post("/admin/remove") { request, _ in try await remove(request) }
        registerDirectory(on: router)
        registerCatalog(on: router)
        router.get("/admin/policy") { request, _ in
            let query = request.uri.queryParameters
            return try await policyPage(
                role: query["role"].map(String.init) ?? "", scope: query["scope"].map(String.init) ?? "/",
                notice: Self.notices[query["done"].map(String.init) ?? ""])
        }
        router.post("/admin/policy") { request, _ in try await savePolicy(request) }
        router.get("/audit") { request, _ in try await auditPage(request) }
    }

    func adminSection(_ section: AdminSection, notice: String? = nil, refusal: RegentError? = nil) async throws
        -> Response
    {
        guard let (session, actor) = signedIn() else { return Self.redirect("/login") }
        do {
            var values: [String: Any] =
                switch section {
                case .assignments: try await assignmentValues(actor, csrf: csrfToken(for: session))
                case .directory: try await directoryValues(actor, csrf: csrfToken(for: session))
                case .roles: try await roleValues(actor, csrf: csrfToken(for: session))
                case .targets: try await targetValues(actor)
                }
            if let notice { values["notice"] = notice }
            values["error"] = refusal?.reason
            return try await page(
                "admin-\(section.rawValue)", title: "Administration", values, status: refusal?.pageStatus ?? .ok)
        } catch let failure as RegentError {
            return try await refusalPage(failure, title: "Administration")
        }
    }

    /// An administration form: signed in, CSRF checked, then `action` through the engine; a
    /// refusal is shown on the section's page, success redirects there with a fixed notice.
    func adminAction(
        _ request: Request, _ section: AdminSection, done: String,
        _ action: (FormFields, ActorContext) async throws -> Void
    ) async throws -> Response {
        guard let (session, actor) = signedIn() else { return Self.redirect("/login") }
        let fields = try await form(request, session: session)
        do {
            try await action(fields, actor)
            return Self.redirect("\(section.path)?done=\(done)")
        } catch let error as RegentError {
            return try await adminSection(section, refusal: error)
        }
    }

    private func assignmentValues(_ actor: ActorContext, csrf: String) async throws -> [String: Any] {
        let directory = try await Directory(engine: engine, actor: actor)
        let listed = try await engine.requests.listAssignments(
            AssignmentFilter(states: AssignmentFilter.live), by: actor, after: nil, limit: 500)
        let assignments = listed.items.map { assignment -> [String: Any] in
            [
                "id": assignment.id.description, "principal": directory.principalName(assignment.principalId),
                // A disabled principal's eligibility is kept (until it is enabled again): say so.
                "disabled": listed.disabledHolders.contains(assignment.principalId),
                "role": directory.roleName(assignment.roleId), "scope": assignment.scope.path,
                "kind": assignment.kind.rawValue, "csrf": csrf,
                "until": assignment.end.flatMap { try? Self.dates.encode($0) } ?? "permanent",
            ]
        }
        return [
            "roles": directory.roles.map { ["name": $0.name] },
            "principals": directory.principals.map { ["name": $0.name] },
            "assignments": assignments,
        ]
    }

    private func assign(_ request: Request) async throws -> Response {
        try await adminAction(request, .assignments, done: "assigned") { fields, actor in
            let principal = try await engine.directory.principal(named: fields["principal"] ?? "", by: actor)
            let role = try await engine.directory.role(named: fields["role"] ?? "")
            _ = try await engine.requests.submit(
                RequestDraft(
                    action: .adminAssign, requesterId: actor.principalId, principalId: principal.id, roleId: role.id,
                    scope: try Scope(parsing: fields.text("scope") ?? "/"),
                    kind: fields["kind"] == "active" ? .active : .eligible,
                    justification: fields.text("justification"),
                    duration: try fields.text("duration").map { try ISODuration(parsing: $0) }),
                by: actor)
        }
    }

    /// Removes an assignment through the normal remove request (safeguards and audit included).
    private func remove(_ request: Request) async throws -> Response {
        try await adminAction(request, .assignments, done: "removed") { fields, actor in
            guard let id = fields["assignment"].flatMap(Assignment.ID.init),
                let assignment = try await engine.requests.listAssignments(
                    AssignmentFilter(states: AssignmentFilter.live), by: actor, after: nil, limit: 500
                ).items.first(where: { $0.id == id })
            else { throw RegentError(.notFound, "no such assignment in force", field: "assignment") }
            _ = try await engine.requests.submit(
                RequestDraft(
                    action: .adminRemove, requesterId: actor.principalId, principalId: assignment.principalId,
                    roleId: assignment.roleId, scope: assignment.scope, kind: assignment.kind,
                    justification: "removed in the portal", targetAssignmentId: id),
                by: actor)
        }
    }
}

/// Principals and roles read once per page, with their names by id.
struct Directory {
    let principals: [Principal]
    let roles: [Role]
    private let principalNames: [Principal.ID: String]
    private let roleNames: [Role.ID: String]

    init(engine: Engine, actor: ActorContext) async throws {
        principals = try await engine.directory.listPrincipals(by: actor, after: nil, limit: 5000).items
        roles = try await engine.directory.listRoles(after: nil, limit: 5000).items
        principalNames = Dictionary(principals.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
        roleNames = Dictionary(roles.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
    }

    func principalName(_ id: Principal.ID) -> String { principalNames[id] ?? id.description }
    func roleName(_ id: Role.ID) -> String { roleNames[id] ?? id.description }
    var namesById: [Principal.ID: String] { principalNames }
}
