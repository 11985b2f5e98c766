import Foundation
import Hummingbird
import RegentAPI
import RegentAudit
import RegentCore
import RegentEngine
import RegentStore

/// Administration (roles, principals, assignments, the policy editor) and the audit log. Every
/// page asks the engine, so the rights are exactly the API's.
extension Portal {
    func registerAdministration(on router: Router<RegentRequestContext>) {
        router.get("/admin") { request, _ in
            try await adminPage(notice: Self.notices[request.uri.queryParameters["done"].map(String.init) ?? ""])
        }
        router.post("/admin/assign") { request, _ in try await assign(request) }
        router.post("/admin/remove") { request, _ in try await remove(request) }
        router.post("/admin/principal") { request, _ in try await createPrincipal(request) }
        router.post("/admin/enable") { request, _ in try await setEnabled(request) }
        router.get("/admin/policy") { request, _ in
            let query = request.uri.queryParameters
            return try await policyPage(
                role: query["role"].map(String.init) ?? "", scope: query["scope"].map(String.init) ?? "/",
                notice: Self.notices[query["done"].map(String.init) ?? ""])
        }
        router.post("/admin/policy") { request, _ in try await savePolicy(request) }
        router.get("/audit") { request, _ in try await auditPage(request) }
    }

    private func adminPage(notice: String? = nil, error: String? = nil) async throws -> Response {
        guard let (session, actor) = signedIn() else { return Self.redirect("/login") }
        guard try await engine.permits(actor, .manageAssignments) else {
            return try await page(
                "requests", title: "Administration", ["error": "Only administrators."], status: .forbidden)
        }
        let allRoles = try await engine.listRoles(offset: 0, limit: 500).items
        let allPrincipals = try await engine.listPrincipals(by: actor, offset: 0, limit: 500).items
        let roles = allRoles.map {
            ["name": $0.name, "description": $0.description, "builtIn": $0.isBuiltIn] as [String: Any]
        }
        let directoryAdmin = try await engine.permits(actor, .managePrincipals)
        let csrf = csrfToken(for: session)
        let principals = allPrincipals.map {
            [
                "name": $0.name, "displayName": $0.displayName, "kind": $0.kind.rawValue, "enabled": $0.isEnabled,
                "directoryAdmin": directoryAdmin, "csrf": csrf,
            ] as [String: Any]
        }
        let names = Dictionary(allPrincipals.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
        let roleNames = Dictionary(allRoles.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
        let assignments = try await engine.listAssignments(
            AssignmentFilter(states: AssignmentFilter.live), by: actor, offset: 0, limit: 500
        ).items.map { assignment -> [String: Any] in
            [
                "id": assignment.id.description, "principal": names[assignment.principalId] ?? "?",
                "role": roleNames[assignment.roleId] ?? "?", "scope": assignment.scope.path,
                "kind": assignment.kind.rawValue, "csrf": csrf,
                "until": assignment.end.flatMap { try? Self.dates.encode($0) } ?? "permanent",
            ]
        }
        var targets: [[String: Any]] = []
        for target in try await engine.listTargets(by: actor, offset: 0, limit: 500).items {
            targets.append([
                "name": target.name, "kind": target.kind.rawValue, "scope": target.scope.path,
                "config": target.config.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(
                    separator: " "),
                "secrets": try await engine.secretNames(of: target.id).joined(separator: ", "),
            ])
        }
        let builtIns = Role.BuiltIn.allCases.map { builtIn -> [String: Any] in
            let holders = assignments.filter {
                $0["role"] as? String == builtIn.rawValue && $0["kind"] as? String == Assignment.Kind.active.rawValue
            }
            return [
                "name": builtIn.rawValue,
                "rights": builtIn.permissions.map(\.rawValue).sorted().joined(separator: ", "),
                "holders": holders.compactMap { $0["principal"] as? String }.joined(separator: ", "),
            ]
        }
        var values: [String: Any] = [
            "roles": roles, "principals": principals, "assignments": assignments, "targets": targets,
            "directoryAdmin": directoryAdmin, "builtIns": builtIns,
        ]
        if let notice { values["notice"] = notice }
        if let error { values["error"] = error }
        return try await page(
            "admin", title: "Administration", values, status: error == nil ? .ok : .unprocessableContent)
    }

    /// An administration form: signed in, CSRF checked, then `action` through the engine; a
    /// refusal is shown on the administration page, success redirects with a fixed notice.
    private func adminAction(
        _ request: Request, done: String, _ action: (FormFields, ActorContext) async throws -> Void
    ) async throws -> Response {
        guard let (session, actor) = signedIn() else { return Self.redirect("/login") }
        let fields = try await form(request, session: session)
        do {
            try await action(fields, actor)
            return Self.redirect("/admin?done=\(done)")
        } catch let error as RegentError {
            return try await adminPage(error: error.reason)
        }
    }

    private func assign(_ request: Request) async throws -> Response {
        try await adminAction(request, done: "assigned") { fields, actor in
            let principal = try await engine.principal(named: fields["principal"] ?? "")
            let role = try await engine.role(named: fields["role"] ?? "")
            _ = try await engine.submit(
                RequestDraft(
                    action: .adminAssign, requesterId: actor.principalId, principalId: principal.id, roleId: role.id,
                    scope: try Scope(parsing: fields.text("scope") ?? "/"),
                    kind: fields["kind"] == "active" ? .active : .eligible,
                    justification: fields.text("justification"),
                    duration: try fields.text("duration").map { try ISODuration(parsing: $0) }),
                by: actor)
        }
    }

    private func createPrincipal(_ request: Request) async throws -> Response {
        try await adminAction(request, done: "created") { fields, actor in
            let kind = Principal.Kind(rawValue: fields["kind"] ?? "") ?? .user
            let password = kind == .user ? fields.text("password") : nil
            if let password, password.count < 12 {
                throw RegentError.invalid("password", "a password has at least 12 characters")
            }
            let hash = try await password.asyncMap { try await PasswordHasher.hash($0) }
            _ = try await engine.createPrincipal(
                kind: kind, name: fields["name"] ?? "", displayName: fields.text("displayName"), email: nil,
                passwordHash: hash, by: actor)
        }
    }

    /// Disabling ends the principal's sessions and checks at once (the engine's rule).
    private func setEnabled(_ request: Request) async throws -> Response {
        try await adminAction(request, done: "updated") { fields, actor in
            let principal = try await engine.principal(named: fields["principal"] ?? "")
            _ = try await engine.updatePrincipal(principal.id, .init(isEnabled: fields["enabled"] == "true"), by: actor)
        }
    }

    /// Removes an assignment through the normal remove request (safeguards and audit included).
    private func remove(_ request: Request) async throws -> Response {
        try await adminAction(request, done: "removed") { fields, actor in
            guard let id = fields["assignment"].flatMap(Assignment.ID.init),
                let assignment = try await engine.listAssignments(
                    AssignmentFilter(states: AssignmentFilter.live), by: actor, offset: 0, limit: 500
                ).items.first(where: { $0.id == id })
            else { throw RegentError(.notFound, "no such assignment in force", field: "assignment") }
            _ = try await engine.submit(
                RequestDraft(
                    action: .adminRemove, requesterId: actor.principalId, principalId: assignment.principalId,
                    roleId: assignment.roleId, scope: assignment.scope, kind: assignment.kind,
                    justification: "removed in the portal", targetAssignmentId: id),
                by: actor)
        }
    }

    private func policyPage(role name: String, scope scopeText: String, notice: String? = nil, error: String? = nil)
        async throws -> Response
    {
        guard let (_, actor) = signedIn() else { return Self.redirect("/login") }
        guard try await engine.permits(actor, .manageRoles) else { return Self.redirect("/roles") }
        do {
            let role = try await engine.role(named: name)
            let scope = try Scope(parsing: scopeText)
            let (own, effective) = try await engine.policies(role: role.id, scope: scope)
            let approvers = try await names(effective.approval.stages.first?.approvers ?? [])
            let ownApprovers: String? =
                if let stage = own?.approval?.stages.first {
                    try await names(stage.approvers).joined(separator: ", ")
                } else { nil }
            func flag(_ rule: PolicyRule, _ label: String, _ value: Bool?, _ inForce: Bool) -> [String: Any] {
                [
                    "name": rule.rawValue, "label": label, "isFlag": true, "inherit": value == nil, "on": value == true,
                    "off": value == false, "effective": inForce ? "yes" : "no",
                    "origin": effective.origins[rule]?.path ?? "",
                ]
            }
            func text(_ rule: PolicyRule, _ label: String, _ value: String?, _ inForce: String, _ example: String)
                -> [String: Any]
            {
                [
                    "name": rule.rawValue, "label": label, "isFlag": false, "value": value ?? "",
                    "placeholder": example,
                    "effective": inForce.isEmpty ? "none" : inForce, "origin": effective.origins[rule]?.path ?? "",
                ]
            }
            let fields: [[String: Any]] = [
                text(
                    .maximumDuration, "Maximum activation", own?.maximumDuration?.description,
                    effective.maximumDuration.description, "PT8H"),
                flag(
                    .requireJustification, "Justification required", own?.requireJustification,
                    effective.requireJustification),
                flag(.requireTicket, "Ticket required", own?.requireTicket, effective.requireTicket),
                flag(.requireMfa, "Fresh MFA at activation", own?.requireMfa, effective.requireMfa),
                text(
                    .mfaFreshness, "MFA freshness", own?.mfaFreshness?.description, effective.mfaFreshness.description,
                    "PT10M"),
                text(
                    .approval, "Approvers (names, comma-separated; one stage)",
                    ownApprovers,
                    approvers.joined(separator: ", "), "bob, dba-leads"),
                text(
                    .networks, "Allowed source networks (CIDRs)",
                    own?.networks?.map { $0.description }.joined(separator: ", "),
                    effective.networks.map { $0.description }.joined(separator: ", "), "10.0.0.0/8, 2001:db8::/32"),
            ]
            var values: [String: Any] = ["role": role.name, "scope": scope.path, "fields": fields]
            if let notice { values["notice"] = notice }
            if let error { values["error"] = error }
            return try await page(
                "policy", title: "Policy of \(role.name) at \(scope.path)", values,
                status: error == nil ? .ok : .unprocessableContent)
        } catch let failure as RegentError {
            return try await adminPage(error: failure.reason)
        }
    }

    /// Writes the rules of the form into the role's own policy at the scope; rules the form does
    /// not show are kept as they were.
    private func savePolicy(_ request: Request) async throws -> Response {
        guard let (session, actor) = signedIn() else { return Self.redirect("/login") }
        let fields = try await form(request, session: session)
        let (roleName, scopeText) = (fields["role"] ?? "", fields["scope"] ?? "/")
        do {
            let role = try await engine.role(named: roleName)
            let scope = try Scope(parsing: scopeText)
            var policy = try await engine.policies(role: role.id, scope: scope).own ?? Policy()
            func flag(_ rule: PolicyRule) -> Bool? {
                fields[rule.rawValue] == "" ? nil : fields[rule.rawValue] == "true"
            }
            policy.maximumDuration = try fields.text("maximumDuration").map {
                try ISODuration(parsing: $0, field: "maximumDuration")
            }
            policy.requireJustification = flag(.requireJustification)
            policy.requireTicket = flag(.requireTicket)
            policy.requireMfa = flag(.requireMfa)
            policy.mfaFreshness = try fields.text("mfaFreshness").map {
                try ISODuration(parsing: $0, field: "mfaFreshness")
            }
            if let approvers = fields.text("approval") {
                var ids: [Principal.ID] = []
                for name in approvers.split(separator: ",") {
                    ids.append(try await engine.principal(named: name.trimmingCharacters(in: .whitespaces)).id)
                }
                policy.approval = Approval(stages: [ApprovalStage(approvers: ids)])
            } else {
                policy.approval = nil
            }
            policy.networks = try fields.text("networks").map {
                try $0.split(separator: ",").map { try NetworkRange(parsing: $0.trimmingCharacters(in: .whitespaces)) }
            }
            _ = try await engine.setPolicy(policy, role: role.id, scope: scope, by: actor)
            let query =
                "role=\(role.name)&scope=\(scope.path.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "%2F")"
            return Self.redirect("/admin/policy?\(query)&done=policy")
        } catch let error as RegentError {
            return try await policyPage(role: roleName, scope: scopeText, error: error.reason)
        }
    }

    private func auditPage(_ request: Request) async throws -> Response {
        guard let (_, actor) = signedIn() else { return Self.redirect("/login") }
        let query = request.uri.queryParameters
        func value(_ name: String) -> String? {
            query[Substring(name)].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        }
        do {
            var filter = AuditFilter()
            filter.action = value("action")
            filter.outcome = value("outcome").flatMap(AuditOutcome.init)
            if let actorName = value("actor") { filter.actorId = try await engine.principal(named: actorName).id }
            if let roleName = value("role") { filter.subjectRoleId = try await engine.role(named: roleName).id }
            filter.from = value("from").flatMap(Self.localTime)
            filter.to = value("to").flatMap(Self.localTime)
            let before = value("before").flatMap { Int64($0) }
            let events = try await engine.searchAudit(filter, by: actor, before: before, limit: 50)
            let report = try await engine.verifyAudit(by: actor)
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
            return try await page(
                "audit", title: "Audit log",
                [
                    "events": rows, "next": next as Any, "intact": report.isIntact,
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
                status: error.code == .accessDenied ? .forbidden : .badRequest)
        }
    }

    /// `datetime-local` values are read as UTC.
    static func localTime(_ text: String) -> Date? {
        try? Date.ISO8601FormatStyle().parse(text.count == 16 ? text + ":00Z" : text + "Z")
    }

    private func names(_ ids: [Principal.ID]) async throws -> [String] {
        var names: [String] = []
        for id in ids { names.append((try? await engine.principal(named: id.description).name) ?? id.description) }
        return names
    }
}
