import Foundation
import RegentAudit
import RegentConnectors
import RegentCore
import RegentEngine
import RegentStore
import RegentTestSupport
import Synchronization
import Testing

/// Access reviews with a fake clock across two occurrences: snapshots, recommendations, reviewer
/// rules, defaults for silence, and auto-apply removing a denied assignment and revoking its grant.
struct ReviewTests {
    func definition(
        _ h: Harness, roles: [Role], reviewers: ReviewDefinition.Reviewers,
        recurrence: ReviewDefinition.Recurrence = .weekly,
        defaultDecision: ReviewDefinition.DefaultDecision = .recommendation, autoApply: Bool = true,
        justificationRequired: Bool = false, kinds: Set<Assignment.Kind> = [.eligible, .active]
    ) throws -> ReviewDefinition {
        try ReviewDefinition(
            id: ReviewDefinition.ID(UUID()), name: "quarterly dba review", roleIds: roles.map(\.id), scope: .root,
            kinds: kinds, inactiveDays: nil, reviewers: reviewers, recurrence: recurrence, start: h.clock.now(),
            duration: .days(3), ending: .after(occurrences: 2), justificationRequired: justificationRequired,
            defaultDecision: defaultDecision, autoApply: autoApply, reminders: true, completionRecipients: [],
            lookBackDays: 30, createdBy: h.admin.principalId, createdAt: h.clock.now())
    }

    @Test func twoOccurrencesWithDefaultsAndAutoApply() async throws {
        let db = MemoryTarget()
        try await withHarness(provisioners: ProvisionerRegistry([db])) { h in
            let alice = try await h.user("alice")
            let bob = try await h.user("bob")
            let carol = try await h.user("carol")
            let (dba, _) = try await ProvisioningTests().role(h, "dba", value: "pg_dba")
            try await h.assign(alice.principalId, dba)  // eligible, will be activated: recommended approve
            try await h.assign(bob.principalId, dba, kind: .active, duration: .days(30))  // never signed in: deny
            _ = try await h.activate(alice, dba, duration: .minutes(30))
            try await h.engine.provisioning.runDueJobs()
            #expect(db.holdings == ["pg_dba alice", "pg_dba bob"])
            h.clock.advance(by: 1800)
            try await h.engine.provisioning.runDueJobs()

            let review = try await h.engine.governance.createReview(
                try definition(h, roles: [dba], reviewers: .principals([carol.principalId])), by: h.admin)
            let first = try #require(try await h.engine.governance.reviewInstances(of: review.id, by: h.admin).first)
            #expect(first.state == .active && first.items.count == 2)
            let byPrincipal = Dictionary(uniqueKeysWithValues: first.items.map { ($0.principalId, $0) })
            #expect(byPrincipal[alice.principalId]?.recommendation == .approve)
            #expect(byPrincipal[bob.principalId]?.recommendation == .deny)
            #expect(byPrincipal[bob.principalId]?.recommendationReason == "not signed in in the last 30 days")
            #expect(first.items.allSatisfy { $0.reviewers == [carol.principalId] })

            // Only reviewers decide; carol keeps alice and says nothing about bob.
            let aliceItem = try #require(byPrincipal[alice.principalId])
            await #expect(throws: RegentError(.accessDenied, "", field: "itemId")) {
                try await h.engine.governance.decideReviewItem(
                    first.id, item: aliceItem.id, verdict: .approve, justification: nil, by: bob)
            }
            _ = try await h.engine.governance.decideReviewItem(
                first.id, item: aliceItem.id, verdict: .approve, justification: "on call", by: carol)
            #expect(try await h.engine.governance.myReviewItems(carol).count == 2)

            // The end: bob's item takes the recommendation (deny), auto-apply removes it and revokes.
            h.clock.advance(by: 3 * 86_400)
            try await h.engine.governance.runReviews()
            try await h.engine.provisioning.runDueJobs()
            let applied = try await h.engine.governance.reviewInstance(first.id, by: h.admin)
            #expect(applied.state == .applied)
            let bobItem = try #require(applied.items.first { $0.principalId == bob.principalId })
            #expect(bobItem.decision?.verdict == .deny && bobItem.decision?.by == nil && bobItem.outcome == .removed)
            #expect(applied.items.first { $0.principalId == alice.principalId }?.outcome == .kept)
            #expect(db.holdings.isEmpty)
            #expect(h.engine.check(principal: bob.principalId, role: dba.id, scope: .root) == nil)
            let bobAssignment = try await h.store.transaction { try await $0.assignment(id: bobItem.assignmentId) }
            #expect(bobAssignment?.endReason == .revokedByReview)

            // The second occurrence a week after the first snapshots what is left: alice only.
            h.clock.advance(by: 4 * 86_400)
            try await h.engine.governance.runReviews()
            let instances = try await h.engine.governance.reviewInstances(of: review.id, by: h.admin)
            #expect(instances.map(\.occurrence) == [1, 0])
            #expect(instances.first?.items.map(\.principalId) == [alice.principalId])
            // Its end with silence keeps alice (activated within 30 days: approve), and no third one comes.
            h.clock.advance(by: 3 * 86_400)
            try await h.engine.governance.runReviews()
            h.clock.advance(by: 30 * 86_400)
            try await h.engine.governance.runReviews()
            let all = try await h.engine.governance.reviewInstances(of: review.id, by: h.admin)
            #expect(all.count == 2 && all.allSatisfy { $0.state == .applied })
            let actions = try await h.auditEvents().map(\.action).filter { $0.hasPrefix("review.") }
            #expect(
                actions == [
                    "review.created", "review.started", "review.decide.refused", "review.decided", "review.completed",
                    "review.applied", "review.started", "review.completed", "review.applied",
                ])
            #expect(try await h.verifyChain().isIntact)
        }
    }

    /// Without auto-apply an administrator applies; "no change" leaves silence alone; a
    /// justification can be required; managers review with a fallback; nobody reviews their own.
    @Test func managersManualApplyAndRules() async throws {
        try await withHarness { h in
            let alice = try await h.user("alice")
            let bob = try await h.user("bob")
            let mia = try await h.user("mia")
            let fallback = try await h.user("fallback")
            let ops = try await h.role("ops")
            try await h.assign(alice.principalId, ops)
            try await h.assign(bob.principalId, ops)
            try await h.engine.directory.setManager(of: alice.principalId, to: mia.principalId, by: h.admin)
            let review = try await h.engine.governance.createReview(
                try definition(
                    h, roles: [ops], reviewers: .managers(fallback: [fallback.principalId]), defaultDecision: .noChange,
                    autoApply: false, justificationRequired: true), by: h.admin)
            let instance = try #require(try await h.engine.governance.reviewInstances(of: review.id, by: h.admin).first)
            let aliceItem = try #require(instance.items.first { $0.principalId == alice.principalId })
            let bobItem = try #require(instance.items.first { $0.principalId == bob.principalId })
            #expect(aliceItem.reviewers == [mia.principalId] && bobItem.reviewers == [fallback.principalId])
            await #expect(throws: RegentError.invalid("justification", "")) {
                try await h.engine.governance.decideReviewItem(
                    instance.id, item: aliceItem.id, verdict: .approve, justification: " ", by: mia)
            }
            _ = try await h.engine.governance.decideReviewItem(
                instance.id, item: aliceItem.id, verdict: .deny, justification: nil, by: mia)
            await #expect(throws: RegentError(.invalidTransition, "", field: "instanceId")) {
                try await h.engine.governance.applyReview(instance.id, by: h.admin)
            }
            h.clock.advance(by: 3 * 86_400)
            try await h.engine.governance.runReviews()
            let completed = try await h.engine.governance.reviewInstance(instance.id, by: h.admin)
            #expect(completed.state == .completed)
            #expect(completed.items.first { $0.principalId == bob.principalId }?.decision == nil)
            await #expect(throws: RegentError(.invalidTransition, "", field: "instanceId")) {
                try await h.engine.governance.decideReviewItem(
                    instance.id, item: bobItem.id, verdict: .deny, justification: nil, by: fallback)
            }
            await #expect(throws: RegentError(.accessDenied, "", field: "actor")) {
                try await h.engine.governance.applyReview(instance.id, by: mia)
            }
            let applied = try await h.engine.governance.applyReview(instance.id, by: h.admin)
            #expect(applied.items.first { $0.principalId == alice.principalId }?.outcome == .removed)
            #expect(applied.items.first { $0.principalId == bob.principalId }?.outcome == .kept)
            let live = try await h.engine.requests.listAssignments(
                AssignmentFilter(roleId: ops.id, states: AssignmentFilter.live), by: h.admin, after: nil, limit: 10)
            #expect(live.items.map(\.principalId) == [bob.principalId])
        }
    }

    /// Occurrences follow the calendar; an ending by date or count stops them; a period shorter
    /// than the occurrence is refused.
    @Test func schedule() throws {
        let start = Date(timeIntervalSince1970: 1_800_000_000)  // 2027-01-15
        func review(_ recurrence: ReviewDefinition.Recurrence, ending: ReviewDefinition.Ending = .never) throws
            -> ReviewDefinition
        {
            try ReviewDefinition(
                id: ReviewDefinition.ID(UUID()), name: "r", roleIds: [], scope: .root, kinds: [.eligible],
                inactiveDays: nil, reviewers: .selfReview(fallback: []), recurrence: recurrence, start: start,
                duration: .days(5), ending: ending, justificationRequired: false, defaultDecision: .noChange,
                autoApply: false, reminders: false, completionRecipients: [], createdBy: Principal.ID(UUID()),
                createdAt: start)
        }
        #expect(try review(.once).occurrenceStart(1) == nil)
        #expect(try review(.weekly).occurrenceStart(2) == start + 14 * 86_400)
        let quarterly = try review(.quarterly)
        let third = try #require(quarterly.occurrenceStart(2))
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        #expect(calendar.dateComponents([.month, .day], from: third) == DateComponents(month: 7, day: 15))
        #expect(try review(.annually, ending: .after(occurrences: 2)).occurrenceStart(2) == nil)
        #expect(try review(.monthly, ending: .on(start + 40 * 86_400)).occurrenceStart(2) == nil)
        #expect(throws: RegentError.invalid("duration", "")) {
            try ReviewDefinition(
                id: ReviewDefinition.ID(UUID()), name: "r", roleIds: [], scope: .root, kinds: [.eligible],
                inactiveDays: nil, reviewers: .selfReview(fallback: []), recurrence: .weekly, start: start,
                duration: .days(10), ending: .never, justificationRequired: false, defaultDecision: .noChange,
                autoApply: false, reminders: false, completionRecipients: [], createdBy: Principal.ID(UUID()),
                createdAt: start)
        }
    }
}
