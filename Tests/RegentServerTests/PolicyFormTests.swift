import Foundation
import RegentCore
import Testing

@testable import RegentServer

/// The policy editor's form: every rule of §3 read from posted fields, written back the way the
/// form shows it, and bad fields refused with the field named.
struct PolicyFormTests {
    private let bob = Principal.ID(UUID())
    private let leads = Principal.ID(UUID())
    private let carol = Principal.ID(UUID())

    private func form(_ fields: [String: String]) -> FormFields {
        FormFields(
            fields.map { name, value in
                "\(name)=\(value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")"
            }.joined(separator: "&"))
    }

    private func read(_ fields: [String: String], onto policy: Policy = Policy()) async throws -> Policy {
        let ids = ["bob": bob, "dba-leads": leads, "carol": carol]
        return try await PolicyForm.read(form(fields), onto: policy) { name in
            guard let id = ids[name] else { throw RegentError(.notFound, "no principal named \(name)") }
            return id
        }
    }

    @Test func everyRuleIsRead() async throws {
        var fields = [
            "maximumDuration": "PT2H", "requireJustification": "true", "requireTicket": "false", "requireMfa": "true",
            "mfaFreshness": "PT5M", "approval.mode": "required",
            "stage1.approvers": "bob, dba-leads", "stage1.requiredApprovals": "2", "stage1.timeout": "PT8H",
            "stage1.escalationApprovers": "carol", "stage1.escalationAfter": "PT2H",
            "stage2.approvers": "carol",
            "networks": "10.0.0.0/8, 2001:db8::/32",
            "timeWindows": "Mon-Fri 08:00-18:00 Europe/Paris\nSat 22:00-02:00 UTC",
            "maxActivations": "3 per P1D", "eligibleExpiration.mode": "bounded", "eligibleExpiration.maximum": "P365D",
            "activeExpiration.mode": "permanent", "activeRequireMfa": "true", "activeRequireJustification": "false",
            "notifications.mode": "set",
        ]
        for event in NotificationRule.Event.allCases {
            for recipient in NotificationRule.Recipient.allCases {
                fields["notify.\(event.rawValue).\(recipient.rawValue)"] = recipient == .admins ? "critical" : "none"
            }
        }
        fields["notify.activation.admins.extra"] = "soc@example.com, oncall@example.com"
        let policy = try await read(fields)
        #expect(policy.maximumDuration == .hours(2))
        #expect(policy.requireJustification == true && policy.requireTicket == false && policy.requireMfa == true)
        #expect(policy.mfaFreshness == .minutes(5))
        let stages = try #require(policy.approval?.stages)
        #expect(stages.count == 2)
        #expect(
            stages[0].approvers == [bob, leads] && stages[0].requiredApprovals == 2 && stages[0].timeout == .hours(8))
        #expect(stages[0].escalation == Escalation(approvers: [carol], after: .hours(2)))
        #expect(stages[1].approvers == [carol] && stages[1].timeout == ApprovalStage.defaultTimeout)
        #expect(policy.networks?.map(\.description) == ["10.0.0.0/8", "2001:db8::/32"])
        let windows = try #require(policy.timeWindows)
        #expect(windows.map(PolicyForm.text) == ["Mon-Fri 08:00-18:00 Europe/Paris", "Sat 22:00-02:00 UTC"])
        #expect(policy.maxActivations == .atMost(ActivationLimit(count: 3, window: .days(1))))
        #expect(policy.eligibleExpiration == AssignmentExpiration(allowPermanent: false, maximumDuration: .days(365)))
        #expect(policy.activeExpiration == AssignmentExpiration(allowPermanent: true, maximumDuration: nil))
        #expect(policy.activeRequireMfa == true && policy.activeRequireJustification == false)
        let rules = try #require(policy.notifications)
        #expect(rules.count == 9)
        #expect(rules.filter { $0.level == .critical }.map(\.recipient) == [.admins, .admins, .admins])
        #expect(
            rules.first { $0.event == .activation && $0.recipient == .admins }?.extraRecipients == [
                "soc@example.com", "oncall@example.com",
            ])
    }

    /// Empty fields inherit; `any` and `unlimited` override an inherited restriction; "not
    /// required" overrides an inherited approval.
    @Test func emptyInheritsAndKeywordsOverride() async throws {
        var existing = Policy()
        existing.maximumDuration = .hours(1)
        existing.approval = Approval(stages: [ApprovalStage(approvers: [bob])])
        let cleared = try await read([:], onto: existing)
        #expect(cleared == Policy())
        let overriding = try await read([
            "networks": "any", "timeWindows": "any", "maxActivations": "unlimited", "approval.mode": "none",
        ])
        #expect(overriding.networks == [] && overriding.timeWindows == [])
        #expect(overriding.maxActivations == .unlimited)
        #expect(overriding.approval == Approval.none)
        #expect(overriding.setRules == [.approval, .networks, .timeWindows, .maxActivations])
    }

    @Test(arguments: [
        (["maximumDuration": "PT48H"], "activation.maximumDuration"),
        (["requireMfa": "maybe"], "requireMfa"),
        (["approval.mode": "required"], "stage1.approvers"),
        (["approval.mode": "required", "stage1.approvers": "mallory"], ""),
        (
            ["approval.mode": "required", "stage1.approvers": "bob", "stage1.requiredApprovals": "two"],
            "stage1.requiredApprovals"
        ),
        (
            ["approval.mode": "required", "stage1.approvers": "bob", "stage1.escalationApprovers": "carol"],
            "stage1.escalationAfter"
        ),
        (["timeWindows": "Weekdays 09:00-17:00 UTC"], "timeWindows"),
        (["timeWindows": "Fri-Mon 09:00-17:00 UTC"], "timeWindows"),
        (["timeWindows": "Mon 09:00-25:00 UTC"], "timeWindows"),
        (["timeWindows": "Mon 09:00-17:00 Mars/Olympus"], "timeWindows"),
        (["maxActivations": "three a day"], "maxActivations"),
        (["eligibleExpiration.mode": "bounded"], "eligibleAssignment.maximumDuration"),
        (["notifications.mode": "set"], "notify.eligibleAssigned.admins"),
        (["networks": "10.0.0.0/33"], "networks"),
    ])
    func badFieldsAreNamed(fields: [String: String], field: String) async throws {
        await #expect {
            try await read(fields)
        } throws: { error in
            guard let error = error as? RegentError else { return false }
            return field.isEmpty ? error.code == .notFound : error.field == field
        }
    }

    @Test func effectiveRulesReadPlainly() {
        let names = [bob: "bob", carol: "carol"]
        let approval = Approval(stages: [
            ApprovalStage(
                approvers: [bob], requiredApprovals: 1, timeout: .hours(4),
                escalation: Escalation(approvers: [carol], after: .hours(1)))
        ])
        #expect(PolicyForm.text(approval, names: names) == "stage 1: 1 of bob within PT4H, then also carol after PT1H")
        #expect(PolicyForm.text(Approval.none, names: names) == "not required")
        #expect(
            PolicyForm.text(AssignmentExpiration(allowPermanent: false, maximumDuration: .days(90))) == "at most P90D")
        let window = try? PolicyForm.timeWindow("Mon,Wed,Fri-Sun 09:30-17:00 UTC")
        #expect(window.map(PolicyForm.text) == "Mon,Wed,Fri-Sun 09:30-17:00 UTC")
    }
}
