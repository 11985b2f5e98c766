import Foundation
import PropertyBased
import RegentCore
import RegentTestSupport
import Testing

/// Property tests of the invariants DESIGN.md §10 names, over random policies and event sequences.
struct InvariantPropertyTests {
    static let people: [Principal.ID] = [alice, bob, carol, admin]

    /// Whatever the stages and whoever tries, the requester never records a decision and nobody outside
    /// a stage's set (or its escalation after the delay) ever decides it.
    @Test func noSelfApprovalAndOnlyApproversDecide() async {
        await propertyCheck(
            count: 300, input: Gen.int(in: 1...3), Gen.int(in: 0...3).array(of: 1...3),
            Gen.int(in: 0...3).array(of: 1...12),
            Gen.int(in: 0...10_000).array(of: 12)
        ) { stageCount, approverPicks, actorPicks, offsets in
            let stages = (0..<stageCount).map { index in
                ApprovalStage(approvers: [Self.people[approverPicks[index % approverPicks.count]]], timeout: .hours(4))
            }
            var (request, _) = try! activate(policy { $0.approval = Approval(stages: stages) })
            var time = t0
            for (step, pick) in actorPicks.enumerated() {
                let actor = Self.people[pick]
                time = time + TimeInterval(offsets[step % offsets.count])
                let stageBefore = request.approval?.currentStage ?? 0
                let allowed = request.approval.map { $0.mayDecide(identities: [actor], at: time) } ?? false
                if (try? request.approve(
                    by: actor, identities: [actor], selfIdentities: [actor], justification: nil,
                    facts: RequestFacts(eligibility: eligibility()), now: time)) != nil
                {
                    #expect(actor != alice)
                    #expect(allowed)
                    #expect(stages[stageBefore].approvers.contains(actor))
                }
            }
            #expect(!(request.approval?.decisions.contains { $0.approverId == alice } ?? false))
        }
    }

    /// No activation is ever created longer than the effective maximum, whatever is asked.
    @Test func noActivationBeyondMaximum() async {
        await propertyCheck(count: 300, input: Gen.int(in: 5...1440), Gen.int(in: 1...3000)) {
            maximumMinutes, askedMinutes in
            let p = policy { $0.maximumDuration = .minutes(Int64(maximumMinutes)) }
            let (_, effects) = try! activate(p, duration: .minutes(Int64(askedMinutes)))
            for assignment in savedAssignments(effects) {
                let length = assignment.end!.timeIntervalSince(assignment.start)
                #expect(length <= TimeInterval(maximumMinutes * 60))
            }
        }
    }
}
