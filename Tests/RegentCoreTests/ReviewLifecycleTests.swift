import Foundation
import RegentCore
import RegentTestSupport
import Testing

/// An access review told as a story with a fixed clock: occurrences come due, one missed while
/// Regent was down is skipped, reviewers decide, are reminded once, and at the end the defaults
/// apply and denied access ends, never the last administrator's.
struct ReviewLifecycleTests {
    let day: TimeInterval = 86_400
    let bobAccess = Assignment.open(
        id: id(501), kind: .active, principalId: bob, roleId: dbaRole, scope: prod, start: t0 - 86_400 * 90,
        end: nil, requestId: nil, activatedFrom: nil, now: t0 - 86_400 * 90
    ).0

    func definition(autoApply: Bool = true) throws -> ReviewDefinition {
        try ReviewDefinition(
            id: id(900), name: "dba quarterly", roleIds: [dbaRole], scope: .root, kinds: [.eligible, .active],
            inactiveDays: nil, reviewers: .principals([carol, bob]), recurrence: .weekly, start: t0,
            duration: .days(3), ending: .never, justificationRequired: true, defaultDecision: .recommendation,
            autoApply: autoApply, reminders: true, completionRecipients: [], createdBy: admin, createdAt: t0 - day)
    }

    func snapshot() throws -> ReviewSnapshotFacts {
        ReviewSnapshotFacts(
            live: [eligibility(), bobAccess],
            principals: [
                alice: try Principal(id: alice, kind: .user, name: "alice", createdAt: t0 - 100 * day),
                bob: try Principal(id: bob, kind: .user, name: "bob", createdAt: t0 - 100 * day),
            ], managers: [:], graph: MembershipGraph(), lastActivations: [eligibility().id: t0 - 2 * day],
            lastSignIns: [:])
    }

    func note(_ action: AuditAction, _ instance: ReviewInstance, items: Int) -> AuditNote {
        AuditNote(
            action,
            details: [
                "reviewId": (id(900) as ReviewDefinition.ID).description, "instanceId": instance.id.description,
                "occurrence": "\(instance.occurrence + 1)", "items": "\(items)",
            ])
    }

    /// The summary an application of results audits.
    func applied(_ instance: ReviewInstance.ID, removed: Int, items: Int) -> AuditNote {
        AuditNote(
            .reviewApplied,
            details: ["instanceId": instance.description, "removed": "\(removed)", "items": "\(items)"])
    }

    @Test func scheduleComesDueAndSkipsWhatWasMissed() throws {
        let review = try definition()
        #expect(review.occurrencesDue(after: 0, now: t0 - 1) == [])
        #expect(
            review.occurrencesDue(after: 0, now: t0 + 8 * day) == [
                ReviewOccurrence(index: 0, start: t0, end: t0 + 3 * day),
                ReviewOccurrence(index: 1, start: t0 + 7 * day, end: t0 + 10 * day),
            ])
        #expect(review.occurrencesDue(after: 2, now: t0 + 8 * day) == [])

        // The first occurrence ended while Regent was down: skipped, audited, nobody told.
        let (missed, effects) = ReviewInstance.open(
            ReviewOccurrence(index: 0, start: t0, end: t0 + 3 * day), of: review, id: id(950),
            items: try review.items(from: snapshot(), now: t0 + 8 * day, makeID: { id(960) }), now: t0 + 8 * day)
        #expect(missed.state == .applied && missed.items.isEmpty)
        #expect(effects == [.saveReview(missed), .audit(note(.reviewSkipped, missed, items: 0))])
    }

    @Test func occurrenceFromStartToApplied() throws {
        let review = try definition()
        var next = 960
        let items = review.items(
            from: try snapshot(), now: t0,
            makeID: {
                next += 1
                return id(next)
            })
        // alice used her eligibility two days ago; bob never signed in: deny is recommended. Bob
        // is never chosen to review his own access.
        #expect(
            items.map { [$0.principalId, $0.recommendation.rawValue, $0.reviewers] as [AnyHashable] } == [
                [alice, "approve", [carol, bob]], [bob, "deny", [carol]],
            ])

        var (instance, effects) = ReviewInstance.open(
            ReviewOccurrence(index: 0, start: t0, end: t0 + 3 * day), of: review, id: id(950), items: items, now: t0)
        #expect(
            effects == [
                .saveReview(instance), .audit(note(.reviewStarted, instance, items: 2)),
                .notify(.reviewStarted(id(950), reviewers: [carol, bob], items: 2)),
            ])

        // Bob may not keep his own access; approving asks why.
        #expect(throws: RegentError(.accessDenied, "", field: "itemId")) {
            try instance.decide(
                items[1].id, verdict: .approve, justification: "mine", by: bob, identities: [bob],
                selfIdentities: [bob], definition: review, now: t0 + 60)
        }
        #expect(throws: RegentError(.invalidArgument, "", field: "justification")) {
            try instance.decide(
                items[0].id, verdict: .approve, justification: " ", by: carol, identities: [carol],
                selfIdentities: [carol], definition: review, now: t0 + 60)
        }
        effects = try instance.decide(
            items[0].id, verdict: .approve, justification: "on call", by: carol, identities: [carol],
            selfIdentities: [carol], definition: review, now: t0 + 60)
        #expect(
            effects == [
                .saveReview(instance),
                .audit(
                    AuditNote(
                        .reviewDecided, reason: "on call",
                        details: [
                            "instanceId": (id(950) as ReviewInstance.ID).description, "itemId": items[0].id.description,
                            "assignmentId": eligibility().id.description, "verdict": "approve",
                        ])),
            ])

        // Halfway, the reviewers of what is still undecided are reminded, once.
        var facts = ReviewApplyFacts(live: [eligibility(), bobAccess], coverage: nil)
        #expect(instance.advance(definition: review, facts: &facts, now: t0 + day) == [])
        let reminder = instance.advance(definition: review, facts: &facts, now: t0 + 1.5 * day)
        #expect(
            reminder == [
                .review([.saveReview(instance), .notify(.reviewReminder(id(950), reviewers: [carol], items: 1))])
            ])
        #expect(instance.advance(definition: review, facts: &facts, now: t0 + 2 * day) == [])

        // At the end bob's item takes the recommendation (deny) and, applied at once, his access ends.
        let steps = instance.advance(definition: review, facts: &facts, now: t0 + 3 * day)
        var removed = bobAccess
        let removal = try removed.finish(.revokedByReview, now: t0 + 3 * day)
        var completed = instance
        completed.state = .completed
        for index in completed.items.indices { completed.items[index].outcome = nil }
        #expect(instance.state == .applied)
        #expect(instance.items.map(\.outcome) == [.kept, .removed])
        #expect(instance.items[1].decision?.verdict == .deny && instance.items[1].decision?.by == nil)
        #expect(
            steps == [
                .review([
                    .saveReview(completed), .audit(note(.reviewCompleted, instance, items: 2)),
                    .notify(.reviewCompleted(id(950), denied: 1)),
                ]),
                .removal(removed, removal),
                .review([.saveReview(instance), .audit(applied(id(950), removed: 1, items: 2))]),
            ])
        #expect(facts.live[bobAccess.id] == nil)
        // Applied once: a second application does nothing.
        #expect(instance.applyResults(facts: &facts, now: t0 + 4 * day) == [])
    }

    /// Denying the only administrator keeps the access and says why.
    @Test func theLastAdministratorIsKept() throws {
        let adminRole: Role.ID = id(101)
        let adminAccess = Assignment.open(
            id: id(502), kind: .active, principalId: bob, roleId: adminRole, scope: .root, start: t0 - day, end: nil,
            requestId: nil, activatedFrom: nil, now: t0 - day
        ).0
        var instance = ReviewInstance(
            id: id(951), definitionId: id(900), occurrence: 0, start: t0, end: t0 + 3 * day, state: .completed,
            items: [
                ReviewItem(
                    id: id(970), assignmentId: adminAccess.id, principalId: bob, roleId: adminRole, scope: .root,
                    kind: .active, reviewers: [carol], recommendation: .deny, recommendationReason: "unused",
                    decision: ReviewItem.Decision(verdict: .deny, by: carol, at: t0, justification: nil))
            ])
        var facts = ReviewApplyFacts(
            live: [adminAccess],
            coverage: AdministratorCoverage(assignments: [adminAccess], graph: MembershipGraph(), users: [bob]))
        let steps = instance.applyResults(facts: &facts, now: t0 + 3 * day)
        #expect(instance.items.map(\.outcome) == [.keptLastAdministrator])
        #expect(
            steps == [
                .review([.saveReview(instance), .audit(applied(id(951), removed: 0, items: 1))])
            ])
    }
}
