import Foundation
import RegentCore
import RegentTestSupport
import Testing

struct PolicyTests {
    /// A deeper policy overrides a shallower one rule by rule, and the origin of each rule is kept.
    @Test func inheritanceRuleByRule() throws {
        var root = Policy()
        root.maximumDuration = .hours(4)
        root.requireTicket = true
        var deeper = Policy()
        deeper.maximumDuration = .hours(1)
        var sibling = Policy()
        sibling.requireTicket = false
        let db = try Scope(parsing: "/prod/db")
        let effective = EffectivePolicy.resolve(
            [(db, deeper), (Scope.root, root), (try Scope(parsing: "/dev"), sibling)],
            at: try Scope(parsing: "/prod/db/orders"))
        #expect(effective.maximumDuration == .hours(1))
        #expect(effective.requireTicket)
        #expect(effective.requireMfa)  // default
        #expect(effective.origins[.maximumDuration] == db)
        #expect(effective.origins[.requireTicket] == Scope.root)
        #expect(effective.origins[.requireMfa] == nil)
    }

    /// A policy that cannot be enforced as written is refused naming the field.
    @Test func validation() throws {
        func refuses(_ field: String, _ configure: (inout Policy) -> Void) {
            var p = Policy()
            configure(&p)
            #expect(throws: RegentError.invalid(field, "")) { try p.validate() }
        }
        refuses("activation.maximumDuration") { $0.maximumDuration = .hours(25) }
        refuses("activation.maximumDuration") { $0.maximumDuration = .minutes(4) }
        refuses("activation.approval.stages") {
            $0.approval = Approval(stages: Array(repeating: ApprovalStage(approvers: [bob]), count: 4))
        }
        refuses("activation.approval.stages[0].approvers") {
            $0.approval = Approval(stages: [ApprovalStage(approvers: [])])
        }
        refuses("activation.approval.stages[0].requiredApprovals") {
            $0.approval = Approval(stages: [ApprovalStage(approvers: [bob], requiredApprovals: 0)])
        }
        refuses("activation.approval.stages[0].escalation.after") {
            $0.approval = Approval(stages: [
                ApprovalStage(
                    approvers: [bob], timeout: .hours(1), escalation: Escalation(approvers: [carol], after: .hours(2)))
            ])
        }
        refuses("eligibleAssignment.maximumDuration") {
            $0.eligibleExpiration = AssignmentExpiration(allowPermanent: false, maximumDuration: nil)
        }
        var fine = Policy()
        fine.maximumDuration = .hours(2)
        fine.approval = Approval(stages: [ApprovalStage(approvers: [bob]), ApprovalStage(approvers: [carol])])
        try fine.validate()
    }

    /// Every failed activation rule is named at once.
    @Test func namesEveryFailedRule() throws {
        let strict = policy {
            $0.maximumDuration = .hours(1)
            $0.requireTicket = true
            $0.networks = [try! NetworkRange(parsing: "10.0.0.0/8")]
            $0.maxActivations = .atMost(ActivationLimit(count: 2, window: .days(1)))
        }
        let context = RequestContext(
            now: t0, mfaVerifiedAt: t0 - 3600, sourceAddress: IPAddress("192.168.1.5"),
            recentActivations: [t0 - 100, t0 - 200])
        let failed = strict.activationFailures(
            duration: .hours(2), justification: "  ", ticket: nil, start: t0, context: context,
            safeguards: Safeguards(),
            countsTowardLimit: true)
        #expect(
            failed == [
                .maximumDuration, .requireJustification, .requireTicket, .requireMfa, .networks, .maxActivations,
            ])
    }
}

struct PolicyCodingTests {
    /// A stored policy reads back identical, including a lifted (explicitly absent) activation limit.
    @Test func roundTrip() throws {
        var lifted = Policy()
        lifted.maxActivations = .unlimited
        lifted.networks = [try NetworkRange(parsing: "10.0.0.0/8")]
        lifted.timeWindows = [try TimeWindow(days: [1, 2], start: "09:00", end: "17:00", timeZone: "Europe/Paris")]
        var limited = Policy()
        limited.maxActivations = .atMost(ActivationLimit(count: 3, window: .days(1)))
        for policy in [lifted, limited, Policy()] {
            let decoded = try JSONDecoder().decode(Policy.self, from: try JSONEncoder().encode(policy))
            #expect(decoded == policy)
        }
        #expect(EffectivePolicy.resolve([(.root, limited), (prod, lifted)], at: prod).maxActivations == nil)
        #expect(EffectivePolicy.resolve([(.root, limited)], at: prod).maxActivations?.count == 3)
    }
}

struct StoredTextBoundsTests {
    /// Everything Regent stores and later returns is bounded here, whatever the transport let through.
    @Test func bounds() {
        let target: Target.ID = id(300)
        #expect(throws: RegentError.invalid("entitlements.value", "")) {
            try Role(
                id: id(1), name: "dba",
                entitlements: [Entitlement(targetId: target, value: String(repeating: "x", count: 513))], createdAt: t0)
        }
        #expect(throws: RegentError.invalid("description", "")) {
            try Role(id: id(1), name: "dba", description: String(repeating: "x", count: 2001), createdAt: t0)
        }
        #expect(throws: RegentError.invalid("displayName", "")) {
            try Principal(
                id: id(2), kind: .user, name: "alice", displayName: String(repeating: "x", count: 257), createdAt: t0)
        }
        #expect(throws: RegentError.invalid("config", "")) {
            try Target(
                id: target, kind: .webhook, name: "hook", scope: .root,
                config: ["url": String(repeating: "x", count: 2049)])
        }
    }
}
