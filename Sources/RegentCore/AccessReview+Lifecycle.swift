public import Foundation

/// One occurrence of a review's schedule: its number (0-based), start and end.
public struct ReviewOccurrence: Hashable, Sendable {
    public var index: Int
    public var start: Date
    public var end: Date

    public init(index: Int, start: Date, end: Date) {
        self.index = index
        self.start = start
        self.end = end
    }
}

/// What the review rules look at when an occurrence opens, read by the engine first.
public struct ReviewSnapshotFacts: Sendable {
    /// Assignments in force or scheduled.
    public var live: [Assignment]
    public var principals: [Principal.ID: Principal]
    public var managers: [Principal.ID: Principal.ID]
    public var graph: MembershipGraph
    /// The latest activation made from each eligible assignment.
    public var lastActivations: [Assignment.ID: Date]
    /// Each principal's latest sign-in.
    public var lastSignIns: [Principal.ID: Date]

    public init(
        live: [Assignment], principals: [Principal.ID: Principal], managers: [Principal.ID: Principal.ID],
        graph: MembershipGraph, lastActivations: [Assignment.ID: Date], lastSignIns: [Principal.ID: Date]
    ) {
        self.live = live
        self.principals = principals
        self.managers = managers
        self.graph = graph
        self.lastActivations = lastActivations
        self.lastSignIns = lastSignIns
    }
}

/// What applying a review's results looks at, kept current across the occurrences applied in one
/// transaction so that denials in several reviews never remove every administrator.
public struct ReviewApplyFacts: Sendable {
    /// Assignments in force or scheduled, by id.
    public var live: [Assignment.ID: Assignment]
    /// Who holds regent-admin; nil when Regent has no such role.
    public var coverage: AdministratorCoverage?

    public init(live: [Assignment], coverage: AdministratorCoverage?) {
        self.live = Dictionary(live.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        self.coverage = coverage
    }
}

/// What a review asks the engine to do, in order: each step is audited in its own context.
public enum ReviewStep: Hashable, Sendable {
    /// Effects about the occurrence itself.
    case review([Effect])
    /// An assignment the results end, with the effects of ending it (and the activations made
    /// from it), audited as a change of that assignment.
    case removal(Assignment, [Effect])
}

extension ReviewDefinition {
    /// The occurrences due by `now` after the `opened` ones, in order.
    public func occurrencesDue(after opened: Int, now: Date) -> [ReviewOccurrence] {
        var due: [ReviewOccurrence] = []
        var index = opened
        while let start = occurrenceStart(index), start <= now {
            due.append(ReviewOccurrence(index: index, start: start, end: start + duration.timeInterval))
            index += 1
        }
        return due
    }

    /// The items of a new occurrence: each covered assignment, its reviewers and a recommendation
    /// from its last use; principals used within `inactiveDays` are left out.
    public func items(
        from facts: ReviewSnapshotFacts, now: Date, makeID: () -> ReviewItem.ID
    ) -> [ReviewItem] {
        var items: [ReviewItem] = []
        for assignment in facts.live where covers(assignment) {
            guard let principal = facts.principals[assignment.principalId] else { continue }
            let lastUse =
                assignment.kind == .eligible
                ? facts.lastActivations[assignment.id] : facts.lastSignIns[assignment.principalId]
            if let days = inactiveDays, let lastUse, now.timeIntervalSince(lastUse) < Double(days) * 86_400 {
                continue
            }
            let (verdict, reason): (ReviewItem.Verdict, String) =
                principal.kind == .group
                ? (.approve, "a group: review its members")
                : ReviewItem.recommend(lastUse: lastUse, lookBackDays: lookBackDays, kind: assignment.kind, now: now)
            items.append(
                ReviewItem(
                    id: makeID(), assignmentId: assignment.id, principalId: assignment.principalId,
                    roleId: assignment.roleId, scope: assignment.scope, kind: assignment.kind,
                    reviewers: reviewers(for: principal, facts: facts), recommendation: verdict,
                    recommendationReason: reason))
        }
        return items.sorted {
            ($0.principalId.description, $0.roleId.description) < ($1.principalId.description, $1.roleId.description)
        }
    }

    /// Who reviews `principal`'s assignment. Outside self-review nobody who holds that access —
    /// the principal, or anyone in it when it is a group — is chosen to review it; with nobody
    /// left, the review's creator is.
    func reviewers(for principal: Principal, facts: ReviewSnapshotFacts) -> [Principal.ID] {
        let holders = facts.graph.everyMember(of: principal.id)
        let chosen: [Principal.ID] =
            switch reviewers {
            case .principals(let ids): ids.filter { !holders.contains($0) }
            case .managers(let fallback):
                (facts.managers[principal.id].map { [$0] } ?? fallback).filter { !holders.contains($0) }
            case .selfReview(let fallback): principal.kind == .group ? fallback : [principal.id]
            }
        return chosen.isEmpty ? [createdBy] : chosen
    }
}

extension ReviewInstance {
    /// Opens an occurrence with its snapshot and tells its reviewers. One whose whole period
    /// passed while Regent was down is skipped (audited), never opened and applied at once.
    public static func open(
        _ occurrence: ReviewOccurrence, of definition: ReviewDefinition, id: ID, items: [ReviewItem], now: Date
    ) -> (ReviewInstance, [Effect]) {
        var instance = ReviewInstance(
            id: id, definitionId: definition.id, occurrence: occurrence.index, start: occurrence.start,
            end: occurrence.end, items: [])
        if occurrence.end <= now {
            instance.state = .applied
            return (instance, [.saveReview(instance), .audit(instance.note(.reviewSkipped, definition))])
        }
        instance.items = items
        return (
            instance,
            [
                .saveReview(instance), .audit(instance.note(.reviewStarted, definition)),
                .notify(.reviewStarted(id, reviewers: Set(items.flatMap(\.reviewers)), items: items.count)),
            ]
        )
    }

    /// The schedule's step for an open occurrence: at its end undecided items take the default
    /// and the results are applied when the review says so; at mid-period the reviewers of
    /// undecided items are reminded, once.
    public mutating func advance(definition: ReviewDefinition, facts: inout ReviewApplyFacts, now: Date)
        -> [ReviewStep]
    {
        guard state == .active else { return [] }
        if now >= end {
            let applying = appliesResults(definition, at: now)
            complete(defaultDecision: definition.defaultDecision, now: now)
            let denied = items.filter { $0.decision?.verdict == .deny }.count
            let completed: [ReviewStep] = [
                .review([
                    .saveReview(self), .audit(note(.reviewCompleted, definition)),
                    .notify(.reviewCompleted(id, denied: denied)),
                ])
            ]
            return applying ? completed + applyResults(facts: &facts, now: now) : completed
        }
        guard definition.reminders && !reminded && now >= start + definition.duration.timeInterval / 2 else {
            return []
        }
        reminded = true
        let pending = items.filter { $0.decision == nil }
        return [
            .review([
                .saveReview(self),
                .notify(.reviewReminder(id, reviewers: Set(pending.flatMap(\.reviewers)), items: pending.count)),
            ])
        ]
    }

    /// Whether ``advance(definition:facts:now:)`` at `now` applies the results, and so needs
    /// ``ReviewApplyFacts``: the occurrence ends now and the review applies itself.
    public func appliesResults(_ definition: ReviewDefinition, at now: Date) -> Bool {
        state == .active && now >= end && definition.autoApply
    }

    /// A reviewer decides (or, while the review is open, changes) one item.
    ///
    /// - Parameters:
    ///   - identities: the reviewer and the groups whose rights they use.
    ///   - selfIdentities: the reviewer and every group they are in: outside self-review nobody
    ///     decides on access they hold.
    public mutating func decide(
        _ itemId: ReviewItem.ID, verdict: ReviewItem.Verdict, justification: String?, by reviewer: Principal.ID,
        identities: Set<Principal.ID>, selfIdentities: Set<Principal.ID>, definition: ReviewDefinition, now: Date
    ) throws(RegentError) -> [Effect] {
        guard let index = items.firstIndex(where: { $0.id == itemId }) else {
            throw RegentError(.notFound, "no such review item", field: "itemId")
        }
        guard state == .active, now < end else {
            throw RegentError(.invalidTransition, "this review has ended", field: "instanceId")
        }
        let item = items[index]
        guard !identities.isDisjoint(with: item.reviewers) else {
            throw RegentError(.accessDenied, "you are not a reviewer of this item", field: "itemId")
        }
        if case .selfReview = definition.reviewers {
        } else if selfIdentities.contains(item.principalId) {
            throw RegentError(
                .accessDenied, "nobody reviews their own access here", field: "itemId",
                failedRules: [.separationOfDuties])
        }
        let text = justification?.trimmingCharacters(in: .whitespacesAndNewlines)
        if definition.justificationRequired && verdict == .approve && (text ?? "").isEmpty {
            throw RegentError.invalid("justification", "this review asks why access should stay")
        }
        items[index].decision = ReviewItem.Decision(
            verdict: verdict, by: reviewer, at: now, justification: text.map { String($0.prefix(2000)) })
        return [
            .saveReview(self),
            .audit(
                AuditNote(
                    .reviewDecided, reason: text,
                    details: [
                        "instanceId": id.description, "itemId": item.id.description,
                        "assignmentId": item.assignmentId.description, "verdict": verdict.rawValue,
                    ])),
        ]
    }

    /// Applies a completed occurrence, once: each denied assignment ends (`revokedByReview`) with
    /// the activations made from it; the rest are kept. Regent's last administrator keeps
    /// regent-admin, and the item says so.
    public mutating func applyResults(facts: inout ReviewApplyFacts, now: Date) -> [ReviewStep] {
        guard state == .completed else { return [] }
        var removals: [ReviewStep] = []
        for index in items.indices {
            let item = items[index]
            guard item.decision?.verdict == .deny else {
                items[index].outcome = .kept
                continue
            }
            guard var assignment = facts.live[item.assignmentId] else {
                items[index].outcome = .alreadyEnded
                continue
            }
            let activations = facts.live.values.filter { $0.activatedFrom == assignment.id }
                .sorted { $0.id.description < $1.id.description }
            if let before = facts.coverage {
                let after = before.ending([assignment.id] + activations.map(\.id))
                if before.isLost(by: after, at: now) {
                    items[index].outcome = .keptLastAdministrator
                    continue
                }
                facts.coverage = after
            }
            // Cannot throw: every assignment here is live.
            var effects = (try? assignment.finish(.revokedByReview, now: now)) ?? []
            for var activation in activations {
                effects += (try? activation.finish(.revokedByReview, now: now)) ?? []
                facts.live[activation.id] = nil
            }
            facts.live[assignment.id] = nil
            removals.append(.removal(assignment, effects))
            items[index].outcome = .removed
        }
        state = .applied
        let summary = AuditNote(
            .reviewApplied,
            details: ["instanceId": id.description, "removed": "\(removals.count)", "items": "\(items.count)"])
        return removals + [.review([.saveReview(self), .audit(summary)])]
    }

    func note(_ action: AuditAction, _ definition: ReviewDefinition) -> AuditNote {
        AuditNote(
            action,
            details: [
                "reviewId": definition.id.description, "instanceId": id.description,
                "occurrence": "\(occurrence + 1)", "items": "\(items.count)",
            ])
    }
}
