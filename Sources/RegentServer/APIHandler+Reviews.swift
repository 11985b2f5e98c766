import Foundation
import RegentAPI
import RegentCore
import RegentEngine

/// Access reviews: definitions, occurrences, reviewers' decisions, applying.
extension APIHandler {
    func createReview(_ input: Operations.CreateReview.Input) async throws -> Operations.CreateReview.Output {
        let (_, actor) = try Caller.required()
        guard case .json(let body) = input.body else { throw APIProblem.invalid("body", "send JSON") }
        let definition = try await ReviewDefinition(
            body, id: ReviewDefinition.ID(UUID()), createdBy: actor.principalId, now: engine.clock.now(),
            principal: { try await self.engine.directory.principal(named: $0, by: actor).id },
            role: { try await self.engine.directory.role(named: $0).id })
        let created = try await engine.governance.createReview(definition, by: actor)
        return .created(.init(body: .json(try await view(created))))
    }

    func listReviews(_ input: Operations.ListReviews.Input) async throws -> Operations.ListReviews.Output {
        let (_, actor) = try Caller.required()
        var items: [Components.Schemas.ReviewView] = []
        for definition in try await engine.governance.reviewDefinitions(by: actor) {
            items.append(try await view(definition))
        }
        return .ok(.init(body: .json(.init(items: items))))
    }

    func listReviewInstances(_ input: Operations.ListReviewInstances.Input) async throws
        -> Operations.ListReviewInstances.Output
    {
        let (_, actor) = try Caller.required()
        let instances = try await engine.governance.reviewInstances(
            of: try Self.id(input.path.reviewId, "reviewId"), by: actor)
        var items: [Components.Schemas.ReviewInstanceView] = []
        for instance in instances { items.append(try await view(instance)) }
        return .ok(.init(body: .json(.init(items: items))))
    }

    func applyReview(_ input: Operations.ApplyReview.Input) async throws -> Operations.ApplyReview.Output {
        let (_, actor) = try Caller.required()
        let instance = try await engine.governance.applyReview(
            try Self.id(input.path.instanceId, "instanceId"), by: actor)
        return .ok(.init(body: .json(try await view(instance))))
    }

    func decideReviewItem(_ input: Operations.DecideReviewItem.Input) async throws -> Operations.DecideReviewItem.Output
    {
        let (_, actor) = try Caller.required()
        guard case .json(let body) = input.body else { throw APIProblem.invalid("body", "send JSON") }
        let instanceId: ReviewInstance.ID = try Self.id(input.path.instanceId, "instanceId")
        let item = try await engine.governance.decideReviewItem(
            instanceId, item: try Self.id(input.path.itemId, "itemId"),
            verdict: ReviewItem.Verdict(rawValue: body.decision.rawValue) ?? .dontKnow,
            justification: body.justification, by: actor)
        return .ok(.init(body: .json(try await view(item, instanceId: instanceId))))
    }

    func listMyReviewItems(_ input: Operations.ListMyReviewItems.Input) async throws
        -> Operations.ListMyReviewItems.Output
    {
        let (_, actor) = try Caller.required()
        var items: [Components.Schemas.ReviewItemView] = []
        for (instance, item) in try await engine.governance.myReviewItems(actor) {
            var view = try await view(item, instanceId: instance.id)
            view.reviewEnds = instance.end
            items.append(view)
        }
        return .ok(.init(body: .json(.init(items: items))))
    }

    private func name(_ id: Principal.ID) async -> String {
        (try? await engine.directory.principal(id: id))?.name ?? id.description
    }

    private func roleName(_ id: Role.ID) async throws -> String {
        (try? await engine.directory.role(named: id.description).name) ?? id.description
    }

    private func view(_ definition: ReviewDefinition) async throws -> Components.Schemas.ReviewView {
        let (type, principals, fallback): (String, [Principal.ID], [Principal.ID]) =
            switch definition.reviewers {
            case .principals(let ids): ("principals", ids, [])
            case .managers(let ids): ("managers", [], ids)
            case .selfReview(let ids): ("self", [], ids)
            }
        var (endDate, occurrences): (Date?, Int?) = (nil, nil)
        switch definition.ending {
        case .never: break
        case .on(let date): endDate = date
        case .after(let count): occurrences = count
        }
        var roles: [String] = []
        for id in definition.roleIds { roles.append(try await roleName(id)) }
        var principalNames: [String] = []
        for id in principals { principalNames.append(await name(id)) }
        var fallbackNames: [String] = []
        for id in fallback { fallbackNames.append(await name(id)) }
        return .init(
            id: definition.id.description, name: definition.name, roles: roles, scope: definition.scope.path,
            kinds: definition.kinds.map(\.rawValue).sorted(), inactiveDays: definition.inactiveDays,
            reviewers: .init(_type: type, principals: principalNames, fallback: fallbackNames),
            recurrence: definition.recurrence.rawValue, start: definition.start,
            duration: definition.duration.description, endDate: endDate, occurrences: occurrences,
            justificationRequired: definition.justificationRequired,
            defaultDecision: definition.defaultDecision.rawValue, autoApply: definition.autoApply,
            reminders: definition.reminders, lookBackDays: definition.lookBackDays, createdAt: definition.createdAt)
    }

    private func view(_ instance: ReviewInstance) async throws -> Components.Schemas.ReviewInstanceView {
        var items: [Components.Schemas.ReviewItemView] = []
        for item in instance.items { items.append(try await view(item, instanceId: instance.id)) }
        return .init(
            id: instance.id.description, reviewId: instance.definitionId.description,
            occurrence: instance.occurrence + 1,
            start: instance.start, end: instance.end, state: .init(rawValue: instance.state.rawValue) ?? .active,
            items: items)
    }

    private func view(_ item: ReviewItem, instanceId: ReviewInstance.ID) async throws
        -> Components.Schemas.ReviewItemView
    {
        var reviewers: [String] = []
        for id in item.reviewers { reviewers.append(await name(id)) }
        let decidedBy: String? = if let by = item.decision?.by { await name(by) } else { nil }
        return .init(
            id: item.id.description, instanceId: instanceId.description, assignmentId: item.assignmentId.description,
            principal: await name(item.principalId), role: try await roleName(item.roleId), scope: item.scope.path,
            kind: item.kind.rawValue, reviewers: reviewers, recommendation: item.recommendation.rawValue,
            recommendationReason: item.recommendationReason, decision: item.decision?.verdict.rawValue,
            decidedBy: decidedBy, decidedAt: item.decision?.at, justification: item.decision?.justification,
            outcome: item.outcome?.rawValue)
    }
}

extension ReviewDefinition {
    /// The review an API body (or a manifest's AccessReview document) describes; `principal` and
    /// `role` find reviewers and roles by name.
    init(
        _ body: Components.Schemas.ReviewCreate, id: ID, createdBy: Principal.ID, now: Date,
        principal: (String) async throws -> Principal.ID, role: (String) async throws -> Role.ID
    ) async throws {
        func ids(_ names: [String]?) async throws -> [Principal.ID] {
            var found: [Principal.ID] = []
            for name in names ?? [] { found.append(try await principal(name)) }
            return found
        }
        let reviewers: ReviewDefinition.Reviewers =
            switch body.reviewers._type {
            case .principals: .principals(try await ids(body.reviewers.principals))
            case .managers: .managers(fallback: try await ids(body.reviewers.fallback))
            case ._self: .selfReview(fallback: try await ids(body.reviewers.fallback))
            }
        let ending: ReviewDefinition.Ending =
            if let date = body.endDate { .on(date) } else if let count = body.occurrences {
                .after(occurrences: count)
            } else {
                .never
            }
        var roleIds: [Role.ID] = []
        for name in body.roles ?? [] { roleIds.append(try await role(name)) }
        try self.init(
            id: id, name: body.name, roleIds: roleIds, scope: try Scope(parsing: body.scope ?? "/"),
            kinds: Set((body.kinds ?? [.eligible, .active]).compactMap { Assignment.Kind(rawValue: $0.rawValue) }),
            inactiveDays: body.inactiveDays, reviewers: reviewers,
            recurrence: ReviewDefinition.Recurrence(rawValue: body.recurrence.rawValue) ?? .once,
            start: body.start ?? now, duration: try ISODuration(parsing: body.duration, field: "duration"),
            ending: ending, justificationRequired: body.justificationRequired ?? false,
            defaultDecision: body.defaultDecision.flatMap { .init(rawValue: $0.rawValue) } ?? .noChange,
            autoApply: body.autoApply ?? false, reminders: body.reminders ?? true,
            completionRecipients: body.completionRecipients ?? [], lookBackDays: body.lookBackDays ?? 30,
            createdBy: createdBy, createdAt: now)
    }
}

extension Components.Schemas.ReviewCreate {
    /// A stored review as the body that would create it, every setting explicit, names for ids.
    init(_ definition: ReviewDefinition, principal: (Principal.ID) -> String, role: (Role.ID) -> String) {
        let (type, principals, fallback):
            (Components.Schemas.ReviewersBody._TypePayload, [Principal.ID], [Principal.ID]) =
                switch definition.reviewers {
                case .principals(let ids): (.principals, ids, [])
                case .managers(let ids): (.managers, [], ids)
                case .selfReview(let ids): (._self, [], ids)
                }
        var (endDate, occurrences): (Date?, Int?) = (nil, nil)
        switch definition.ending {
        case .never: break
        case .on(let date): endDate = date
        case .after(let count): occurrences = count
        }
        self.init(
            name: definition.name, roles: definition.roleIds.map(role).sorted(), scope: definition.scope.path,
            kinds: definition.kinds.compactMap { .init(rawValue: $0.rawValue) }.sorted { $0.rawValue < $1.rawValue },
            inactiveDays: definition.inactiveDays,
            reviewers: .init(_type: type, principals: principals.map(principal), fallback: fallback.map(principal)),
            recurrence: .init(rawValue: definition.recurrence.rawValue) ?? .once, start: definition.start,
            duration: definition.duration.description, endDate: endDate, occurrences: occurrences,
            justificationRequired: definition.justificationRequired,
            defaultDecision: .init(rawValue: definition.defaultDecision.rawValue), autoApply: definition.autoApply,
            reminders: definition.reminders, completionRecipients: definition.completionRecipients,
            lookBackDays: definition.lookBackDays)
    }
}
