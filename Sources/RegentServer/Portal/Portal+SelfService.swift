import Foundation
import Hummingbird
import RegentAPI
import RegentCore
import RegentEngine

/// My roles (activate, deactivate, extend), my requests and the approvals waiting on me.
extension Portal {
    static let dates = RFC3339DateTranscoder()
    /// How far back "Recently ended" looks on My roles.
    static let recentlyEnded: TimeInterval = 7 * 86_400

    func registerSelfService(on router: Router<RegentRequestContext>) {
        router.get("/roles") { request, _ in
            guard signedIn() != nil else { return Self.redirect("/login") }
            return try await rolesPage(notice: Self.notices[request.uri.queryParameters["done"].map(String.init) ?? ""])
        }
        router.post("/activate") { request, _ in try await activate(request) }
        router.post("/deactivate") { request, _ in try await endOrExtend(request, extending: false) }
        router.post("/extend") { request, _ in try await endOrExtend(request, extending: true) }
        router.get("/requests") { _, _ in try await requestsPage() }
        router.get("/approvals") { request, _ in
            try await approvalsPage(notice: Self.notices[request.uri.queryParameters["done"].map(String.init) ?? ""])
        }
        router.post("/approvals") { request, _ in try await decide(request) }
    }

    /// Fixed messages after a redirect, so no text of the query string reaches the page.
    static let notices = [
        "activated": "Activated.", "pending": "Requested; it waits for approval.", "deactivated": "Deactivated.",
        "extended": "Extended.", "decided": "Done.", "assigned": "Assigned.", "removed": "Removed.",
        "created": "Created.", "updated": "Updated.",
        "policy": "Policy saved.", "saved": "Saved.", "dismissed": "Dismissed.", "applied": "Applied.",
    ]

    /// - Parameter refused: the role whose activation was just refused, with the errors per field.
    func rolesPage(
        notice: String? = nil, refusal: RegentError? = nil,
        refused: (role: String, error: RegentError, errors: [String: [String]], fields: FormFields)? = nil
    ) async throws -> Response {
        guard let (session, actor) = signedIn() else { return Self.redirect("/login") }
        let held = try await engine.requests.myRoles(actor)
        let now = engine.clock.now()
        var active: [[String: Any]] = []
        var eligible: [[String: Any]] = []
        var scheduled: [[String: Any]] = []
        for role in held {
            let assignment = role.assignment
            var item: [String: Any] = [
                "role": role.roleName, "scope": assignment.scope.path, "assignmentId": assignment.id.description,
                "id": assignment.id.description.prefix(8), "csrf": csrfToken(for: session),
            ]
            if assignment.kind == .eligible {
                let (_, policy) = try await engine.directory.policies(role: assignment.roleId, scope: assignment.scope)
                item["maximum"] = policy.maximumDuration.description
                item["suggested"] =
                    policy.maximumDuration.timeInterval >= 3600 ? "PT1H" : policy.maximumDuration.description
                item["needsMfa"] = policy.requireMfa
                if let refused, refused.role == role.roleName {
                    item["errors"] = refused.errors
                    item["justification"] = refused.fields["justification"] ?? ""
                    item["ticket"] = refused.fields["ticket"] ?? ""
                    item["suggested"] = refused.fields["duration"] ?? item["suggested"] ?? ""
                }
                eligible.append(item)
            } else if assignment.start > now {
                item["start"] = try Self.dates.encode(assignment.start)
                scheduled.append(item)
            } else {
                item["until"] = try assignment.end.map { try Self.dates.encode($0) } ?? ""
                item["left"] = role.secondsLeft.map { "\($0 / 3600)h \($0 % 3600 / 60)m \($0 % 60)s" } ?? "permanent"
                item["deactivatable"] = assignment.activatedFrom != nil && role.viaGroup == nil
                active.append(item)
            }
        }
        let ended = try await engine.requests.myEndedRoles(actor, since: now.addingTimeInterval(-Self.recentlyEnded))
            .map { role -> [String: Any] in
                [
                    "role": role.roleName, "scope": role.assignment.scope.path, "kind": role.assignment.kind.rawValue,
                    "reason": role.assignment.endReason?.rawValue ?? "",
                    "ended": role.assignment.endedAt.flatMap { try? Self.dates.encode($0) } ?? "",
                ]
            }
        var values: [String: Any] = [
            "active": active, "eligible": eligible, "scheduled": scheduled, "anyScheduled": !scheduled.isEmpty,
            "ended": ended, "anyEnded": !ended.isEmpty,
        ]
        if let notice { values["notice"] = notice }
        if refused != nil { values["error"] = "The activation was refused; see the fields below." }
        if let refusal { values["error"] = refusal.reason }
        return try await page(
            "roles", title: "My roles", values, status: (refused?.error ?? refusal)?.pageStatus ?? .ok)
    }

    private func activate(_ request: Request) async throws -> Response {
        guard let (session, actor) = signedIn() else { return Self.redirect("/login") }
        let fields = try await form(request, session: session)
        let roleName = fields["role"] ?? ""
        var errors: [String: [String]] = [:]
        do {
            var actor = actor
            if let code = fields.text("otp") {
                actor.mfaVerifiedAt = try await engine.sessions.verifyTOTP(code: code, session: session, by: actor)
            }
            let role = try await engine.directory.role(named: roleName)
            let submitted = try await engine.requests.submit(
                RequestDraft(
                    action: .selfActivate, requesterId: actor.principalId, principalId: actor.principalId,
                    roleId: role.id, scope: try Scope(parsing: fields["scope"] ?? "/"), kind: .active,
                    justification: fields.text("justification"), ticket: try Self.ticket(fields.text("ticket")),
                    duration: try fields.text("duration").map { try ISODuration(parsing: $0) }),
                by: actor)
            return Self.redirect(submitted.status == .pendingApproval ? "/roles?done=pending" : "/roles?done=activated")
        } catch let error as RegentError {
            let place: [PolicyRule: String] = [
                .maximumDuration: "duration", .minimumDuration: "duration", .requireJustification: "justification",
                .requireTicket: "ticket", .requireMfa: "otp", .mfaFreshness: "otp",
            ]
            if error.failedRules.isEmpty {
                let field =
                    ["duration", "justification", "ticket", "otp"].contains(error.field ?? "") ? error.field! : "other"
                errors[field, default: []].append(error.reason)
            }
            for rule in error.failedRules {
                errors[place[rule] ?? "other", default: []].append(Self.explain(rule, error.reason))
            }
            return try await rolesPage(refused: (roleName, error, errors, fields))
        }
    }

    private static func explain(_ rule: PolicyRule, _ reason: String) -> String {
        switch rule {
        case .requireJustification: "This role needs a justification."
        case .requireTicket: "This role needs a ticket (SYSTEM:NUMBER)."
        case .requireMfa, .mfaFreshness: "Enter a code from your authenticator app."
        case .maximumDuration: "Longer than this role allows."
        default: reason
        }
    }

    static func ticket(_ text: String?) throws(RegentError) -> RegentCore.Request.Ticket? {
        guard let text else { return nil }
        let parts = text.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw RegentError.invalid("ticket", "write the ticket as SYSTEM:NUMBER, e.g. jira:INC-42")
        }
        return RegentCore.Request.Ticket(system: parts[0], number: parts[1])
    }

    private func endOrExtend(_ request: Request, extending: Bool) async throws -> Response {
        guard let (session, actor) = signedIn() else { return Self.redirect("/login") }
        let fields = try await form(request, session: session)
        guard let id = fields["assignment"].flatMap(Assignment.ID.init),
            let held = try await engine.requests.myRoles(actor).first(where: { $0.assignment.id == id })
        else {
            return try await rolesPage(refusal: RegentError(.notFound, "That activation is not yours or has ended."))
        }
        do {
            _ = try await engine.requests.submit(
                RequestDraft(
                    action: extending ? .selfExtend : .selfDeactivate, requesterId: actor.principalId,
                    principalId: actor.principalId, roleId: held.assignment.roleId, scope: held.assignment.scope,
                    kind: .active,
                    duration: extending ? try fields.text("duration").map { try ISODuration(parsing: $0) } : nil,
                    targetAssignmentId: id),
                by: actor)
            return Self.redirect(extending ? "/roles?done=extended" : "/roles?done=deactivated")
        } catch let error as RegentError {
            return try await rolesPage(refusal: error)
        }
    }

    private func requestsPage() async throws -> Response {
        guard let (_, actor) = signedIn() else { return Self.redirect("/login") }
        let mine = try await engine.requests.listRequests(
            status: nil, mine: true, awaitingMe: false, by: actor, after: nil, limit: 100)
        var rows: [[String: Any]] = []
        for request in mine.items {
            rows.append([
                "id": request.id.description, "created": try Self.dates.encode(request.createdAt),
                "action": request.action.rawValue, "role": try await roleName(request.roleId),
                "scope": request.scope.path, "status": request.status.rawValue, "reason": request.reason ?? "",
            ])
        }
        return try await page("requests", title: "My requests", ["requests": rows, "any": !rows.isEmpty])
    }

    private func approvalsPage(notice: String? = nil, refusal: RegentError? = nil) async throws -> Response {
        guard let (session, actor) = signedIn() else { return Self.redirect("/login") }
        let waiting = try await engine.requests.listRequests(
            status: nil, mine: false, awaitingMe: true, by: actor, after: nil, limit: 200)
        var rows: [[String: Any]] = []
        for request in waiting.items {
            let requester = try await engine.directory.principal(id: request.requesterId)
            rows.append([
                "id": request.id.description, "requester": requester?.displayName ?? request.requesterId.description,
                "role": try await roleName(request.roleId), "scope": request.scope.path,
                "duration": request.duration?.description ?? "", "justification": request.justification ?? "",
                "ticket": request.ticket.map { "\($0.system):\($0.number)" } ?? "",
                "deadline": try request.approval.map { try Self.dates.encode($0.deadline) } ?? "",
            ])
        }
        var values: [String: Any] = ["requests": rows, "any": !rows.isEmpty, "csrf": csrfToken(for: session)]
        if let notice { values["notice"] = notice }
        values["error"] = refusal?.reason
        return try await page("approvals", title: "Approvals", values, status: refusal?.pageStatus ?? .ok)
    }

    /// Approves or denies every selected request; stops at the first refusal and says which.
    private func decide(_ request: Request) async throws -> Response {
        guard let (session, actor) = signedIn() else { return Self.redirect("/login") }
        let fields = try await form(request, session: session)
        let ids = fields.all("request").compactMap(RegentCore.Request.ID.init)
        guard !ids.isEmpty else {
            return try await approvalsPage(refusal: .invalid("requests", "Select at least one request."))
        }
        let approving = fields["decision"] == "approve"
        for id in ids {
            do {
                if approving {
                    _ = try await engine.requests.approve(id, by: actor, justification: fields.text("reason"))
                } else {
                    _ = try await engine.requests.deny(id, by: actor, justification: fields.text("reason"))
                }
            } catch let error as RegentError {
                return try await approvalsPage(refusal: error)
            }
        }
        return Self.redirect("/approvals?done=decided")
    }

    func roleName(_ id: Role.ID) async throws -> String {
        (try? await engine.directory.role(named: id.description).name) ?? id.description
    }
}
