import Foundation
import RegentCore
import RegentTestSupport

func id<T>(_ n: Int) -> Identifier<T> {
    Identifier(UUID(uuidString: String(format: "00000000-0000-0000-0000-%012d", n))!)
}

let alice: Principal.ID = id(1)
let bob: Principal.ID = id(2)
let carol: Principal.ID = id(3)
let leads: Principal.ID = id(10)
let admin: Principal.ID = id(99)
let dbaRole: Role.ID = id(100)
let prod = try! Scope(parsing: "/prod")

/// An eligibility of alice for the dba role at /prod, in force from t0 - 1 day, permanent.
func eligibility(end: Date? = nil) -> Assignment {
    Assignment.open(
        id: id(500), kind: .eligible, principalId: alice, roleId: dbaRole, scope: prod, start: t0 - 86_400, end: end,
        requestId: nil, activatedFrom: nil, now: t0 - 86_400
    ).0
}

extension Date {
    static func - (date: Date, seconds: TimeInterval) -> Date { date.addingTimeInterval(-seconds) }
    static func + (date: Date, seconds: TimeInterval) -> Date { date.addingTimeInterval(seconds) }
}

/// Two serial stages: leads (escalating to admin after an hour, timing out after two), then carol.
let twoStages = policy {
    $0.approval = Approval(stages: [
        ApprovalStage(
            approvers: [leads], requiredApprovals: 1, timeout: .hours(2),
            escalation: Escalation(approvers: [admin], after: .hours(1))),
        ApprovalStage(approvers: [carol]),
    ])
}

func policy(_ configure: (inout Policy) -> Void) -> EffectivePolicy {
    var p = Policy()
    configure(&p)
    return EffectivePolicy.resolve([(Scope.root, p)], at: prod)
}

/// alice asks to activate dba at /prod with a fresh MFA.
func activate(
    _ policy: EffectivePolicy, duration: ISODuration? = .hours(1), justification: String? = "INC-42 failover",
    ticket: Request.Ticket? = nil, context: RequestContext = RequestContext(now: t0, mfaVerifiedAt: t0 - 60),
    facts: RequestFacts = RequestFacts(eligibility: eligibility()), safeguards: Safeguards = Safeguards(),
    start: Date? = nil
) throws -> (Request, [Effect]) {
    try Request.submit(
        id: id(700), newAssignmentId: id(800),
        draft: RequestDraft(
            action: .selfActivate, requesterId: alice, principalId: alice, roleId: dbaRole, scope: prod, kind: .active,
            justification: justification, ticket: ticket, start: start, duration: duration),
        policy: policy, facts: facts, context: context, safeguards: safeguards)
}

func savedAssignments(_ effects: [Effect]) -> [Assignment] {
    effects.compactMap { if case .saveAssignment(let a) = $0 { a } else { nil } }
}

func auditActions(_ effects: [Effect]) -> [String] {
    effects.compactMap { if case .audit(let note) = $0 { note.action.rawValue } else { nil } }
}
