import Foundation
import RegentAudit
public import RegentCore
import RegentStore

/// Access reviews: definitions made by administrators; occurrences opened on schedule with a
/// snapshot of the assignments they cover; reviewers' decisions; the end, where undecided items
/// take the default; and applying, where denied assignments end through the same transition as
/// a removal (`assignment.revoked`, grants revoked), never the last administrator's.
extension Engine {
    public func createReview(_ definition: ReviewDefinition, by actor: ActorContext) async throws -> ReviewDefinition {
        let now = clock.now()
        try await audited(
            actor: actor, subject: AuditSubject(scope: definition.scope), action: "review.create.refused", now: now
        ) {
            try await store.transaction { tx in
                try await self.authorize(actor.principalId, .manageAssignments, in: tx, now: now)
                let named: [Principal.ID] =
                    switch definition.reviewers {
                    case .principals(let ids), .managers(let ids), .selfReview(let ids): ids
                    }
                for id in named where try await tx.principal(id: id) == nil {
                    throw RegentError(.notFound, "no such reviewer", field: "reviewers")
                }
                for id in definition.roleIds where try await tx.role(id: id) == nil {
                    throw RegentError(.notFound, "no such role", field: "roles")
                }
                try await tx.insertReviewDefinition(definition)
                try await self.audit(
                    AuditNote(
                        "review.created",
                        details: [
                            "reviewId": definition.id.description, "name": definition.name,
                            "recurrence": definition.recurrence.rawValue,
                        ]),
                    in: tx,
                    context: AuditContext(
                        actor: actor.auditActor, subject: AuditSubject(scope: definition.scope), correlationId: nil),
                    now: now)
            }
        }
        try await runReviews()
        return definition
    }

    public func reviewDefinitions(by actor: ActorContext) async throws -> [ReviewDefinition] {
        try await authorize(actor, .readEverything)
        return try await store.transaction { try await $0.reviewDefinitions() }
    }

    public func reviewInstances(of definition: ReviewDefinition.ID, by actor: ActorContext) async throws
        -> [ReviewInstance]
    {
        try await authorize(actor, .readEverything)
        return try await store.transaction { try await $0.reviewInstances(definition: definition) }
    }

    public func reviewInstance(_ id: ReviewInstance.ID, by actor: ActorContext) async throws -> ReviewInstance {
        try await authorize(actor, .readEverything)
        guard let instance = try await store.transaction({ try await $0.reviewInstance(id: id) }) else {
            throw RegentError(.notFound, "no such review occurrence", field: "instanceId")
        }
        return instance
    }

    /// The items of open reviews the actor may decide (directly or through a group), with their
    /// occurrence.
    public func myReviewItems(_ actor: ActorContext) async throws -> [(instance: ReviewInstance, item: ReviewItem)] {
        try await store.transaction { tx in
            let identities = try await tx.membershipGraph().identities(of: actor.principalId)
            return try await tx.reviewInstances(state: .active).flatMap { instance in
                instance.items.filter { !identities.isDisjoint(with: $0.reviewers) }.map { (instance, $0) }
            }
        }
    }

    /// Records (or changes, while the review is open) a reviewer's decision on one item.
    public func decideReviewItem(
        _ instanceId: ReviewInstance.ID, item itemId: ReviewItem.ID, verdict: ReviewItem.Verdict,
        justification: String?, by actor: ActorContext
    ) async throws -> ReviewItem {
        let now = clock.now()
        return try await audited(actor: actor, subject: AuditSubject(), action: "review.decide.refused", now: now) {
            try await store.transaction { tx in
                try await self.requireEnabled(actor.principalId, in: tx)
                guard var instance = try await tx.reviewInstance(id: instanceId),
                    let index = instance.items.firstIndex(where: { $0.id == itemId }),
                    let definition = try await tx.reviewDefinition(id: instance.definitionId)
                else { throw RegentError(.notFound, "no such review item", field: "itemId") }
                guard instance.state == .active, now < instance.end else {
                    throw RegentError(.invalidTransition, "this review has ended", field: "instanceId")
                }
                let item = instance.items[index]
                let graph = try await tx.membershipGraph()
                guard !graph.identities(of: actor.principalId).isDisjoint(with: item.reviewers) else {
                    throw RegentError(.accessDenied, "you are not a reviewer of this item", field: "itemId")
                }
                if case .selfReview = definition.reviewers {
                } else if graph.selfIdentities(of: actor.principalId).contains(item.principalId) {
                    throw RegentError(
                        .accessDenied, "nobody reviews their own access here", field: "itemId",
                        failedRules: [.separationOfDuties])
                }
                let text = justification?.trimmingCharacters(in: .whitespacesAndNewlines)
                if definition.justificationRequired && verdict == .approve && (text ?? "").isEmpty {
                    throw RegentError.invalid("justification", "this review asks why access should stay")
                }
                instance.items[index].decision = ReviewItem.Decision(
                    verdict: verdict, by: actor.principalId, at: now,
                    justification: text.map { String($0.prefix(2000)) })
                try await tx.saveReviewInstance(instance)
                try await self.audit(
                    AuditNote(
                        "review.decided", reason: text,
                        details: [
                            "instanceId": instance.id.description, "itemId": item.id.description,
                            "assignmentId": item.assignmentId.description, "verdict": verdict.rawValue,
                        ]),
                    in: tx,
                    context: AuditContext(
                        actor: actor.auditActor,
                        subject: AuditSubject(principalId: item.principalId, roleId: item.roleId, scope: item.scope),
                        correlationId: nil),
                    now: now)
                return instance.items[index]
            }
        }
    }

    /// Applies a completed occurrence's results (when it does not apply them itself).
    public func applyReview(_ instanceId: ReviewInstance.ID, by actor: ActorContext) async throws -> ReviewInstance {
        let now = clock.now()
        return try await audited(actor: actor, subject: AuditSubject(), action: "review.apply.refused", now: now) {
            let (instance, applied) = try await store.transaction { tx in
                try await self.authorize(actor.principalId, .manageAssignments, in: tx, now: now)
                guard let instance = try await tx.reviewInstance(id: instanceId) else {
                    throw RegentError(.notFound, "no such review occurrence", field: "instanceId")
                }
                guard instance.state == .completed else {
                    throw RegentError(
                        .invalidTransition, "only a completed review is applied, once", field: "instanceId")
                }
                return try await self.apply(instance, actor: actor.auditActor, in: tx, now: now)
            }
            afterCommit(applied)
            return instance
        }
    }

    /// The schedule: opens due occurrences, reminds at mid-period, completes and auto-applies
    /// ended ones. Idempotent, so running it after a restart catches up without doubling anything;
    /// an occurrence whose whole period passed while Regent was down is skipped (audited), never
    /// opened and applied at once.
    public func runReviews() async throws {
        let now = clock.now()
        let applied = try await store.transaction { tx -> Applied in
            var applied = Applied()
            for definition in try await tx.reviewDefinitions() {
                var occurrence = try await tx.reviewOccurrences(of: definition.id)
                while let start = definition.occurrenceStart(occurrence), start <= now {
                    let end = start + definition.duration.timeInterval
                    var instance = ReviewInstance(
                        id: ReviewInstance.ID(UUID()), definitionId: definition.id, occurrence: occurrence,
                        start: start, end: end, items: [])
                    if end <= now {
                        instance.state = .applied
                        try await tx.saveReviewInstance(instance)
                        try await self.reviewAudit("review.skipped", instance, definition, in: tx, now: now)
                    } else {
                        instance.items = try await self.snapshot(definition, in: tx, now: now)
                        try await tx.saveReviewInstance(instance)
                        try await self.reviewAudit("review.started", instance, definition, in: tx, now: now)
                        try await self.notifyReviewers(
                            .reviewStarted, instance, definition, pendingOnly: false, in: tx, now: now)
                    }
                    occurrence += 1
                }
            }
            for var instance in try await tx.reviewInstances(state: .active) {
                guard let definition = try await tx.reviewDefinition(id: instance.definitionId) else { continue }
                if now >= instance.end {
                    instance.complete(defaultDecision: definition.defaultDecision, now: now)
                    try await tx.saveReviewInstance(instance)
                    try await self.reviewAudit("review.completed", instance, definition, in: tx, now: now)
                    try await self.notifyCompletion(instance, definition, in: tx, now: now)
                    if definition.autoApply {
                        applied.merge(try await self.apply(instance, actor: .system, in: tx, now: now).1)
                    }
                } else if definition.reminders && !instance.reminded
                    && now >= instance.start + definition.duration.timeInterval / 2
                {
                    instance.reminded = true
                    try await tx.saveReviewInstance(instance)
                    try await self.notifyReviewers(
                        .reviewReminder, instance, definition, pendingOnly: true, in: tx, now: now)
                }
            }
            return applied
        }
        afterCommit(applied)
    }

    /// The items of a new occurrence: each covered assignment in force or scheduled, its reviewers
    /// and a recommendation from its last use.
    private func snapshot(_ definition: ReviewDefinition, in tx: StoreTransaction, now: Date) async throws
        -> [ReviewItem]
    {
        let lastActivations = try await tx.lastActivations()
        let lastSignIns = try await tx.lastSignIns()
        let graph = try await tx.membershipGraph()
        var items: [ReviewItem] = []
        for assignment in try await tx.liveAssignments() where definition.covers(assignment) {
            guard let principal = try await tx.principal(id: assignment.principalId) else { continue }
            let lastUse =
                assignment.kind == .eligible
                ? lastActivations[assignment.id] : lastSignIns[assignment.principalId]
            if let days = definition.inactiveDays, let lastUse, now.timeIntervalSince(lastUse) < Double(days) * 86_400 {
                continue
            }
            let (verdict, reason): (ReviewItem.Verdict, String) =
                principal.kind == .group
                ? (.approve, "a group: review its members")
                : ReviewItem.recommend(
                    lastUse: lastUse, lookBackDays: definition.lookBackDays, kind: assignment.kind, now: now)
            items.append(
                ReviewItem(
                    id: ReviewItem.ID(UUID()), assignmentId: assignment.id, principalId: assignment.principalId,
                    roleId: assignment.roleId, scope: assignment.scope, kind: assignment.kind,
                    reviewers: try await reviewers(definition, for: principal, graph: graph, in: tx),
                    recommendation: verdict,
                    recommendationReason: reason))
        }
        return items.sorted {
            ($0.principalId.description, $0.roleId.description) < ($1.principalId.description, $1.roleId.description)
        }
    }

    /// Who reviews `principal`'s assignment. Outside self-review nobody who holds that access —
    /// the principal, or anyone in it when it is a group — is chosen to review it.
    private func reviewers(
        _ definition: ReviewDefinition, for principal: Principal, graph: MembershipGraph, in tx: StoreTransaction
    ) async throws -> [Principal.ID] {
        let holders = graph.everyMember(of: principal.id)
        let chosen: [Principal.ID] =
            switch definition.reviewers {
            case .principals(let ids): ids.filter { !holders.contains($0) }
            case .managers(let fallback):
                (try await tx.manager(of: principal.id).map { [$0] } ?? fallback).filter { !holders.contains($0) }
            case .selfReview(let fallback): principal.kind == .group ? fallback : [principal.id]
            }
        return chosen.isEmpty ? [definition.createdBy] : chosen
    }

    /// Ends each denied assignment (`revokedByReview`) with its derived activations; keeps the
    /// rest. The last administrator's regent-admin is kept and says so.
    private func apply(_ instance: ReviewInstance, actor: AuditActor, in tx: StoreTransaction, now: Date) async throws
        -> (ReviewInstance, Applied)
    {
        var instance = instance
        var applied = Applied()
        let live = try await tx.liveAssignments()
        // Kept current as denials are applied, so denying several administrators never removes them all.
        var coverage = try await administratorCoverage(in: tx)
        for index in instance.items.indices {
            let item = instance.items[index]
            guard item.decision?.verdict == .deny else {
                instance.items[index].outcome = "kept"
                continue
            }
            guard var assignment = try await tx.assignment(id: item.assignmentId), assignment.state != .ended else {
                instance.items[index].outcome = "already ended"
                continue
            }
            let ending = [assignment.id] + live.filter { $0.activatedFrom == assignment.id }.map(\.id)
            if let before = coverage {
                let after = before.ending(ending)
                if before.isLost(by: after, at: now) {
                    instance.items[index].outcome = "kept: the last active regent-admin"
                    continue
                }
                coverage = after
            }
            var effects = try assignment.finish(.revokedByReview, now: now)
            for var activation in live where activation.activatedFrom == assignment.id {
                effects += try activation.finish(.revokedByReview, now: now)
            }
            applied.merge(
                try await self.apply(
                    effects, in: tx,
                    context: AuditContext(
                        actor: actor, subject: assignment.auditSubject, correlationId: "review:\(instance.id)"),
                    now: now))
            instance.items[index].outcome = "removed"
        }
        instance.state = .applied
        try await tx.saveReviewInstance(instance)
        let removed = instance.items.filter { $0.outcome == "removed" }.count
        try await self.audit(
            AuditNote(
                "review.applied",
                details: [
                    "instanceId": instance.id.description, "removed": "\(removed)", "items": "\(instance.items.count)",
                ]),
            in: tx,
            context: AuditContext(actor: actor, subject: AuditSubject(), correlationId: "review:\(instance.id)"),
            now: now)
        return (instance, applied)
    }

    private func reviewAudit(
        _ action: String, _ instance: ReviewInstance, _ definition: ReviewDefinition, in tx: StoreTransaction, now: Date
    ) async throws {
        try await audit(
            AuditNote(
                action,
                details: [
                    "reviewId": definition.id.description, "instanceId": instance.id.description,
                    "occurrence": "\(instance.occurrence + 1)", "items": "\(instance.items.count)",
                ]),
            in: tx,
            context: AuditContext(
                actor: .system, subject: AuditSubject(scope: definition.scope), correlationId: "review:\(instance.id)"),
            now: now)
    }

    private func notifyReviewers(
        _ topic: NotificationTopic, _ instance: ReviewInstance, _ definition: ReviewDefinition, pendingOnly: Bool,
        in tx: StoreTransaction, now: Date
    ) async throws {
        guard configuration.notifications.hasChannel else { return }
        let items = instance.items.filter { !pendingOnly || $0.decision == nil }
        let reviewers = Set(items.flatMap(\.reviewers))
        guard !reviewers.isEmpty else { return }
        try await enqueue(
            NotificationPlan(
                topic: topic, key: "\(topic.rawValue):\(instance.id)", recipients: Array(reviewers),
                subject: "\(topic == .reviewStarted ? "Review started" : "Reminder"): \(definition.name)",
                lines: [
                    "Review: \(definition.name)", "Items: \(items.count)", "Ends: \(instance.end.rfc3339)",
                ], link: "/reviews"),
            in: tx, now: now)
    }

    private func notifyCompletion(
        _ instance: ReviewInstance, _ definition: ReviewDefinition, in tx: StoreTransaction, now: Date
    ) async throws {
        guard configuration.notifications.hasChannel else { return }
        let denied = instance.items.filter { $0.decision?.verdict == .deny }.count
        try await enqueue(
            NotificationPlan(
                topic: .reviewCompleted, key: "reviewCompleted:\(instance.id)", recipients: [definition.createdBy],
                addresses: definition.completionRecipients, subject: "Review completed: \(definition.name)",
                lines: [
                    "Review: \(definition.name)", "Items: \(instance.items.count)", "Denied: \(denied)",
                    definition.autoApply ? "The results are applied." : "Apply the results in Regent.",
                ], link: "/admin/reviews"),
            in: tx, now: now)
    }

    /// Sets or clears a principal's manager, for manager-led reviews.
    public func setManager(of principal: Principal.ID, to manager: Principal.ID?, by actor: ActorContext) async throws {
        let now = clock.now()
        try await audited(
            actor: actor, subject: AuditSubject(principalId: principal), action: "principal.manager.refused", now: now
        ) {
            try await store.transaction { tx in
                try await self.authorize(actor.principalId, .managePrincipals, in: tx, now: now)
                guard manager != principal else { throw RegentError.invalid("manager", "nobody manages themselves") }
                try await tx.setManager(of: principal, to: manager)
                try await self.audit(
                    AuditNote("principal.manager_set", details: ["managerId": manager?.description ?? ""]), in: tx,
                    context: AuditContext(
                        actor: actor.auditActor, subject: AuditSubject(principalId: principal), correlationId: nil),
                    now: now)
            }
        }
    }
}
