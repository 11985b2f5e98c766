import Foundation
import RegentAudit
public import RegentCore
import RegentStore

/// Access reviews: definitions made by administrators; occurrences opened on schedule with a
/// snapshot of the assignments they cover; reviewers' decisions; the end, where undecided items
/// take the default; and applying, where denied assignments end through the same transition as
/// a removal (`assignment.revoked`, grants revoked), never the last administrator's.
extension Engine {

    /// What a new occurrence of `definition` looks at, read for the assignments it could cover
    /// only (its roles and kinds, no activations): its cost follows the review's size, not the
    /// size of the whole store.
    func reviewSnapshotFacts(for definition: ReviewDefinition, in tx: StoreTransaction) async throws
        -> ReviewSnapshotFacts
    {
        let live = try await tx.reviewableAssignments(roles: definition.roleIds, kinds: definition.kinds)
            .filter(definition.covers)
        let holders = Set(live.map(\.principalId))
        let eligible = live.filter { $0.kind == .eligible }.map(\.id)
        return ReviewSnapshotFacts(
            live: live, principals: try await tx.principals(ids: holders), managers: try await tx.managers(),
            graph: try await tx.membershipGraph(), lastActivations: try await tx.lastActivations(of: eligible),
            lastSignIns: try await tx.lastSignIns(of: holders))
    }

    func reviewApplyFacts(in tx: StoreTransaction) async throws -> ReviewApplyFacts {
        ReviewApplyFacts(live: try await tx.liveAssignments(), coverage: try await administratorCoverage(in: tx))
    }

    /// Performs a review's steps in order: the occurrence's own effects audited about its scope,
    /// each removal about the assignment it ends, all under the occurrence's correlation id.
    func perform(
        _ steps: [ReviewStep], of instance: ReviewInstance, _ definition: ReviewDefinition, actor: AuditActor,
        in tx: StoreTransaction, now: Date
    ) async throws -> Applied {
        var applied = Applied()
        let correlationId = "review:\(instance.id)"
        for step in steps {
            switch step {
            case .review(let effects):
                applied.merge(
                    try await apply(
                        effects, in: tx,
                        context: AuditContext(
                            actor: actor, subject: AuditSubject(scope: definition.scope), correlationId: correlationId),
                        now: now))
            case .removal(let assignment, let effects):
                applied.merge(
                    try await apply(
                        effects, in: tx,
                        context: AuditContext(
                            actor: actor, subject: assignment.auditSubject, correlationId: correlationId),
                        now: now))
            }
        }
        return applied
    }

}

extension DirectoryService {
    /// Sets or clears a principal's manager, for manager-led reviews.
    public func setManager(of principal: Principal.ID, to manager: Principal.ID?, by actor: ActorContext) async throws {
        let now = engine.clock.now()
        try await engine.audited(
            actor: actor, subject: AuditSubject(principalId: principal), action: .principalManagerRefused, now: now
        ) {
            try await engine.store.transaction { tx in
                try await engine.authorize(actor.principalId, .managePrincipals, in: tx, now: now)
                guard manager != principal else { throw RegentError.invalid("manager", "nobody manages themselves") }
                try await tx.setManager(of: principal, to: manager)
                try await engine.audit(
                    AuditNote(.principalManagerSet, details: ["managerId": manager?.description ?? ""]), in: tx,
                    context: Engine.AuditContext(
                        actor: actor.auditActor, subject: AuditSubject(principalId: principal), correlationId: nil),
                    now: now)
            }
        }
    }
}

extension GovernanceService {
    public func createReview(_ definition: ReviewDefinition, by actor: ActorContext) async throws -> ReviewDefinition {
        let now = engine.clock.now()
        try await engine.audited(
            actor: actor, subject: AuditSubject(scope: definition.scope), action: .reviewCreateRefused, now: now
        ) {
            try await engine.store.transaction { tx in
                try await createReview(definition, by: actor, in: tx, now: now)
            }
        }
        try await runReviews()
        return definition
    }

    /// Stores the review within a transaction the caller commits.
    func createReview(_ definition: ReviewDefinition, by actor: ActorContext, in tx: StoreTransaction, now: Date)
        async throws
    {
        try await engine.authorize(actor.principalId, .manageAssignments, in: tx, now: now)
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
        try await engine.audit(
            AuditNote(
                .reviewCreated,
                details: [
                    "reviewId": definition.id.description, "name": definition.name,
                    "recurrence": definition.recurrence.rawValue,
                ]),
            in: tx,
            context: Engine.AuditContext(
                actor: actor.auditActor, subject: AuditSubject(scope: definition.scope), correlationId: nil),
            now: now)
    }

    public func reviewDefinitions(by actor: ActorContext) async throws -> [ReviewDefinition] {
        try await engine.authorize(actor, .readEverything)
        return try await engine.store.transaction { try await $0.reviewDefinitions() }
    }

    public func reviewInstances(of definition: ReviewDefinition.ID, by actor: ActorContext) async throws
        -> [ReviewInstance]
    {
        try await engine.authorize(actor, .readEverything)
        return try await engine.store.transaction { try await $0.reviewInstances(definition: definition) }
    }

    public func reviewInstance(_ id: ReviewInstance.ID, by actor: ActorContext) async throws -> ReviewInstance {
        try await engine.authorize(actor, .readEverything)
        guard let instance = try await engine.store.transaction({ try await $0.reviewInstance(id: id) }) else {
            throw RegentError(.notFound, "no such review occurrence", field: "instanceId")
        }
        return instance
    }

    /// The items of open reviews the actor may decide (directly or through a group), with their
    /// occurrence.
    public func myReviewItems(_ actor: ActorContext) async throws -> [(instance: ReviewInstance, item: ReviewItem)] {
        try await engine.store.transaction { tx in
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
        let now = engine.clock.now()
        return try await engine.audited(actor: actor, subject: AuditSubject(), action: .reviewDecideRefused, now: now) {
            try await engine.store.transaction { tx in
                try await engine.requireEnabled(actor.principalId, in: tx)
                guard var instance = try await tx.reviewInstance(id: instanceId),
                    let item = instance.items.first(where: { $0.id == itemId }),
                    let definition = try await tx.reviewDefinition(id: instance.definitionId)
                else { throw RegentError(.notFound, "no such review item", field: "itemId") }
                let graph = try await tx.membershipGraph()
                let effects = try instance.decide(
                    itemId, verdict: verdict, justification: justification, by: actor.principalId,
                    identities: graph.identities(of: actor.principalId),
                    selfIdentities: graph.selfIdentities(of: actor.principalId), definition: definition, now: now)
                _ = try await engine.apply(
                    effects, in: tx,
                    context: Engine.AuditContext(
                        actor: actor.auditActor,
                        subject: AuditSubject(principalId: item.principalId, roleId: item.roleId, scope: item.scope),
                        correlationId: nil),
                    now: now)
                return instance.items.first { $0.id == itemId } ?? item
            }
        }
    }

    /// Applies a completed occurrence's results (when it does not apply them itself).
    public func applyReview(_ instanceId: ReviewInstance.ID, by actor: ActorContext) async throws -> ReviewInstance {
        let now = engine.clock.now()
        return try await engine.audited(actor: actor, subject: AuditSubject(), action: .reviewApplyRefused, now: now) {
            let (instance, applied) = try await engine.store.transaction { tx in
                try await engine.authorize(actor.principalId, .manageAssignments, in: tx, now: now)
                guard var instance = try await tx.reviewInstance(id: instanceId),
                    let definition = try await tx.reviewDefinition(id: instance.definitionId)
                else {
                    throw RegentError(.notFound, "no such review occurrence", field: "instanceId")
                }
                guard instance.state == .completed else {
                    throw RegentError(
                        .invalidTransition, "only a completed review is applied, once", field: "instanceId")
                }
                var facts = try await engine.reviewApplyFacts(in: tx)
                let steps = instance.applyResults(facts: &facts, now: now)
                return (
                    instance,
                    try await engine.perform(steps, of: instance, definition, actor: actor.auditActor, in: tx, now: now)
                )
            }
            engine.afterCommit(applied)
            return instance
        }
    }

    /// The schedule: opens due occurrences, reminds at mid-period, completes and auto-applies
    /// ended ones, each as RegentCore decides. Idempotent, so running it after a restart catches
    /// up without doubling anything.
    public func runReviews() async throws {
        let now = engine.clock.now()
        let applied = try await engine.store.transaction { tx -> Engine.Applied in
            var applied = Engine.Applied()
            for definition in try await tx.reviewDefinitions() {
                let opened = try await tx.reviewOccurrences(of: definition.id)
                var snapshot: ReviewSnapshotFacts?
                for occurrence in definition.occurrencesDue(after: opened, now: now) {
                    if snapshot == nil { snapshot = try await engine.reviewSnapshotFacts(for: definition, in: tx) }
                    let items =
                        snapshot.map { definition.items(from: $0, now: now, makeID: { ReviewItem.ID(UUID()) }) } ?? []
                    let (instance, effects) = ReviewInstance.open(
                        occurrence, of: definition, id: ReviewInstance.ID(UUID()), items: items, now: now)
                    applied.merge(
                        try await engine.perform(
                            [.review(effects)], of: instance, definition, actor: .system, in: tx, now: now))
                }
            }
            // Read once, and only when an occurrence ends and applies itself; kept current across them.
            var facts = ReviewApplyFacts(live: [], coverage: nil)
            var factsRead = false
            for var instance in try await tx.reviewInstances(state: .active) {
                guard let definition = try await tx.reviewDefinition(id: instance.definitionId) else { continue }
                if !factsRead && instance.appliesResults(definition, at: now) {
                    facts = try await engine.reviewApplyFacts(in: tx)
                    factsRead = true
                }
                let steps = instance.advance(definition: definition, facts: &facts, now: now)
                applied.merge(
                    try await engine.perform(steps, of: instance, definition, actor: .system, in: tx, now: now))
            }
            return applied
        }
        engine.afterCommit(applied)
    }
}
