import Foundation
import Hummingbird
import RegentAPI
import RegentCore
import RegentEngine

/// Access reviews in the browser: reviewers decide on their items (with the recommendation and
/// its reason beside each); administrators define reviews, follow occurrences and apply them.
extension Portal {
    func registerReviews(on router: Router<RegentRequestContext>) {
        router.get("/reviews") { request, _ in
            try await reviewerPage(notice: Self.notices[request.uri.queryParameters["done"].map(String.init) ?? ""])
        }
        router.post("/reviews/decide") { request, _ in try await decideItems(request) }
        router.get("/admin/reviews") { request, _ in
            try await reviewAdminPage(notice: Self.notices[request.uri.queryParameters["done"].map(String.init) ?? ""])
        }
        router.post("/admin/reviews") { request, _ in try await createReviewFromForm(request) }
        router.post("/admin/reviews/apply") { request, _ in try await applyFromForm(request) }
    }

    private func reviewerPage(notice: String? = nil, refusal: RegentError? = nil) async throws -> Response {
        guard let (session, actor) = signedIn() else { return Self.redirect("/login") }
        var rows: [[String: Any]] = []
        for (instance, item) in try await engine.governance.myReviewItems(actor) {
            rows.append([
                "instance": instance.id.description, "item": item.id.description,
                "principal": try await principalName(item.principalId), "role": try await roleName(item.roleId),
                "scope": item.scope.path, "kind": item.kind.rawValue, "recommendation": item.recommendation.rawValue,
                "why": item.recommendationReason, "decided": item.decision?.verdict.rawValue ?? "",
                "ends": (try? Self.dates.encode(instance.end)) ?? "",
            ])
        }
        var values: [String: Any] = ["items": rows, "none": rows.isEmpty, "csrf": csrfToken(for: session)]
        if let notice { values["notice"] = notice }
        values["error"] = refusal?.reason
        return try await page("reviews", title: "Access reviews", values, status: refusal?.pageStatus ?? .ok)
    }

    /// Decides every selected item the same way, stopping at the first refusal.
    private func decideItems(_ request: Request) async throws -> Response {
        guard let (session, actor) = signedIn() else { return Self.redirect("/login") }
        let fields = try await form(request, session: session)
        let verdict = ReviewItem.Verdict(rawValue: fields["decision"] ?? "") ?? .dontKnow
        let chosen = fields.all("item")
        guard !chosen.isEmpty else {
            return try await reviewerPage(refusal: .invalid("items", "Select at least one item."))
        }
        for pair in chosen {
            let parts = pair.split(separator: "/").map(String.init)
            guard parts.count == 2, let instance = ReviewInstance.ID(parts[0]), let item = ReviewItem.ID(parts[1])
            else {
                continue
            }
            do {
                _ = try await engine.governance.decideReviewItem(
                    instance, item: item, verdict: verdict, justification: fields.text("justification"), by: actor)
            } catch let error as RegentError {
                return try await reviewerPage(refusal: error)
            }
        }
        return Self.redirect("/reviews?done=decided")
    }

    private func reviewAdminPage(notice: String? = nil, refusal: RegentError? = nil) async throws -> Response {
        guard let (session, actor) = signedIn() else { return Self.redirect("/login") }
        do {
            let csrf = csrfToken(for: session)
            var reviews: [[String: Any]] = []
            for definition in try await engine.governance.reviewDefinitions(by: actor) {
                var instances: [[String: Any]] = []
                for instance in try await engine.governance.reviewInstances(of: definition.id, by: actor) {
                    let decided = instance.items.filter { $0.decision != nil }.count
                    instances.append([
                        "id": instance.id.description, "occurrence": instance.occurrence + 1,
                        "state": instance.state.rawValue, "completed": instance.state == .completed,
                        "progress": "\(decided) of \(instance.items.count) decided",
                        "removed": instance.items.filter { $0.outcome == .removed }.count,
                        "ends": (try? Self.dates.encode(instance.end)) ?? "", "csrf": csrf,
                    ])
                }
                reviews.append([
                    "name": definition.name, "recurrence": definition.recurrence.rawValue,
                    "duration": definition.duration.description, "default": definition.defaultDecision.rawValue,
                    "autoApply": definition.autoApply, "instances": instances,
                ])
            }
            var values: [String: Any] = [
                "reviews": reviews, "none": reviews.isEmpty,
                "recurrences": ReviewDefinition.Recurrence.allCases.map(\.rawValue),
                "defaults": ReviewDefinition.DefaultDecision.allCases.map(\.rawValue),
            ]
            if let notice { values["notice"] = notice }
            values["error"] = refusal?.reason
            return try await page(
                "admin-reviews", title: "Access reviews", values, status: refusal?.pageStatus ?? .ok)
        } catch let failure as RegentError {
            return try await refusalPage(failure, title: "Access reviews")
        }
    }

    private func createReviewFromForm(_ request: Request) async throws -> Response {
        guard let (session, actor) = signedIn() else { return Self.redirect("/login") }
        let fields = try await form(request, session: session)
        do {
            let names = (fields["reviewers"] ?? "").split(separator: ",").map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            .filter { !$0.isEmpty }
            var ids: [Principal.ID] = []
            for name in names { ids.append(try await engine.directory.principal(named: name, by: actor).id) }
            var roles: [Role.ID] = []
            for name in (fields["roles"] ?? "").split(separator: ",") {
                roles.append(try await engine.directory.role(named: name.trimmingCharacters(in: .whitespaces)).id)
            }
            let now = engine.clock.now()
            let reviewers: ReviewDefinition.Reviewers =
                switch fields["reviewerType"] {
                case "managers": .managers(fallback: ids)
                case "self": .selfReview(fallback: ids)
                default: .principals(ids)
                }
            let definition = try ReviewDefinition(
                id: ReviewDefinition.ID(UUID()), name: fields.text("name") ?? "", roleIds: roles,
                scope: try Scope(parsing: fields.text("scope") ?? "/"),
                kinds: Set(fields.all("kinds").compactMap(Assignment.Kind.init)), inactiveDays: nil,
                reviewers: reviewers,
                recurrence: ReviewDefinition.Recurrence(rawValue: fields["recurrence"] ?? "") ?? .once, start: now,
                duration: try ISODuration(parsing: fields.text("duration") ?? "P14D", field: "duration"),
                ending: fields.text("occurrences").flatMap(Int.init).map { .after(occurrences: $0) } ?? .never,
                justificationRequired: fields["justificationRequired"] == "on",
                defaultDecision: ReviewDefinition.DefaultDecision(rawValue: fields["defaultDecision"] ?? "")
                    ?? .noChange,
                autoApply: fields["autoApply"] == "on", reminders: true,
                completionRecipients: (fields["recipients"] ?? "").split(separator: ",").map {
                    $0.trimmingCharacters(in: .whitespaces)
                }.filter { !$0.isEmpty }, createdBy: actor.principalId, createdAt: now)
            _ = try await engine.governance.createReview(definition, by: actor)
            return Self.redirect("/admin/reviews?done=created")
        } catch let error as RegentError {
            return try await reviewAdminPage(refusal: error)
        }
    }

    private func applyFromForm(_ request: Request) async throws -> Response {
        guard let (session, actor) = signedIn() else { return Self.redirect("/login") }
        let fields = try await form(request, session: session)
        do {
            guard let id = fields["instance"].flatMap(ReviewInstance.ID.init) else {
                throw RegentError(.notFound, "no such review occurrence", field: "instance")
            }
            _ = try await engine.governance.applyReview(id, by: actor)
            return Self.redirect("/admin/reviews?done=applied")
        } catch let error as RegentError {
            return try await reviewAdminPage(refusal: error)
        }
    }

    private func principalName(_ id: Principal.ID) async throws -> String {
        (try? await engine.directory.principal(id: id))?.name ?? id.description
    }
}
