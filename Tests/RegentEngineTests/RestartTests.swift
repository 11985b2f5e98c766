import Foundation
import PropertyBased
import RegentAudit
import RegentCore
import RegentEngine
import RegentStore
import RegentTestSupport
import Testing

struct RestartTests {
    func temporaryDatabase() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("regent-\(UUID()).db").path
    }

    /// Activations whose end passed while the server was stopped are expired at start, before
    /// anything else; a scheduled start missed meanwhile begins.
    @Test func overdueWorkRunsAtStart() async throws {
        let path = temporaryDatabase()
        var h = try await Harness.make(path: path)
        let alice = try await h.user("alice")
        let bob = try await h.user("bob")
        let dba = try await h.role("dba")
        try await h.assign(alice.principalId, dba)
        let activation = try await h.activate(alice, dba, duration: .minutes(30))
        let scheduled = try await h.engine.requests.submit(
            RequestDraft(
                action: .adminAssign, requesterId: h.admin.principalId, principalId: bob.principalId,
                roleId: dba.id, scope: .root, kind: .active, justification: "later", start: t0 + 3600,
                duration: .hours(8)),
            by: h.admin)
        #expect(scheduled.status == .scheduled)
        h = try await h.restart(at: t0 + 2 * 3600)
        let restarted = h
        defer { Task { await restarted.close() } }
        #expect(try await h.engine.requests.request(activation.id)?.status == .expired)
        #expect(h.engine.check(principal: alice.principalId, role: dba.id, scope: .root) == nil)
        #expect(try await h.engine.requests.request(scheduled.id)?.status == .provisioned)
        #expect(h.engine.check(principal: bob.principalId, role: dba.id, scope: .root)?.until == t0 + 3600 + 8 * 3600)
        #expect(try await h.store.transaction { try await $0.pendingJobCount() } == 1)  // bob's expiry
        #expect(try await h.verifyChain().isIntact)
    }

    enum Step: CaseIterable, Sendable { case activate, deactivate, advance, restart, extend }

    /// Over random sequences of activations, deactivations, extensions, time passing and restarts,
    /// every activation ends exactly once and the audit chain verifies.
    @Test func everyActivationEndsExactlyOnce() async throws {
        await propertyCheck(count: 12, input: Gen<Step>.case.array(of: 4...14), Gen.int(in: 60...4000).array(of: 14)) {
            steps, waits in
            do {
                try await run(steps: steps, waits: waits)
            } catch {
                Issue.record("sequence \(steps) failed: \(error)")
            }
        }
    }

    private func run(steps: [Step], waits: [Int]) async throws {
        var h = try await Harness.make(path: temporaryDatabase())
        let alice = try await h.user("alice")
        let dba = try await h.role("dba")
        try await h.assign(alice.principalId, dba)
        var activations: Set<Assignment.ID> = []
        for (index, step) in steps.enumerated() {
            let live = try await h.store.transaction {
                try await $0.assignments(
                    AssignmentFilter(principalIds: [alice.principalId], kind: .active, states: [.active]))
            }.first
            switch step {
            case .activate where live == nil:
                let request = try await h.activate(alice, dba, duration: .minutes(Int64(5 + waits[index] % 60)))
                if let id = request.assignmentId { activations.insert(id) }
            case .deactivate:
                if let live, h.clock.now().timeIntervalSince(live.start) >= 300 {
                    _ = try await h.engine.requests.submit(
                        RequestDraft(
                            action: .selfDeactivate, requesterId: alice.principalId, principalId: alice.principalId,
                            roleId: dba.id, scope: .root, kind: .active, targetAssignmentId: live.id),
                        by: alice)
                }
            case .extend:
                if let live {
                    var fresh = alice
                    fresh.mfaVerifiedAt = h.clock.now()
                    _ = try? await h.engine.requests.submit(
                        RequestDraft(
                            action: .selfExtend, requesterId: alice.principalId, principalId: alice.principalId,
                            roleId: dba.id, scope: .root, kind: .active, justification: "more",
                            duration: .minutes(10), targetAssignmentId: live.id),
                        by: fresh)
                }
            case .restart:
                h = try await h.restart(at: h.clock.now().addingTimeInterval(TimeInterval(waits[index])))
            case .advance, .activate:
                h.clock.advance(by: TimeInterval(waits[index]))
                try await h.engine.provisioning.runDueJobs()
            }
        }
        h.clock.advance(by: 86_400)
        try await h.engine.provisioning.runDueJobs()
        let events = try await h.auditEvents()
        for id in activations {
            let ends = events.filter {
                ["assignment.expired", "assignment.deactivated", "assignment.removed"].contains($0.action)
                    && $0.details["assignmentId"] == id.description
            }
            #expect(ends.count == 1, "activation \(id) ended \(ends.count) times")
        }
        #expect(try await h.verifyChain().isIntact)
        #expect(h.engine.check(principal: alice.principalId, role: dba.id, scope: .root) == nil)
        await h.close()
    }
}
