public import Foundation

/// One approver's decision in one stage.
public struct ApprovalDecision: Hashable, Sendable, Codable {
    public enum Verdict: String, Sendable, Codable { case approve, deny }

    public var stage: Int
    public var approverId: Principal.ID
    public var verdict: Verdict
    public var justification: String?
    public var at: Date
}

/// Where a request stands in its approval. The stages are copied from the policy when the request
/// is filed, so a later policy change cannot move a request's goalposts.
public struct ApprovalProgress: Hashable, Sendable, Codable {
    public var stages: [ApprovalStage]
    public var currentStage: Int
    public var stageStartedAt: Date
    public var decisions: [ApprovalDecision]
    public var escalatedStages: Set<Int>

    public enum Resolution: Equatable, Sendable {
        case approved
        case denied
        case pending
    }

    init(stages: [ApprovalStage], startedAt: Date) {
        self.stages = stages
        self.currentStage = 0
        self.stageStartedAt = startedAt
        self.decisions = []
        self.escalatedStages = []
    }

    public var stage: ApprovalStage { stages[currentStage] }
    public var deadline: Date { stageStartedAt + stage.timeout }
    public var escalationTime: Date? { stage.escalation.map { stageStartedAt + $0.after } }

    /// Resolution of a stage from its recorded decisions: a deny decides it, and so do the
    /// required number of approvals by approvers not `disabled` since (an approver who was
    /// offboarded no longer counts).
    public func resolution(ofStage index: Int, disabled: Set<Principal.ID> = []) -> Resolution {
        let decided = decisions.filter { $0.stage == index }
        if decided.contains(where: { $0.verdict == .deny }) { return .denied }
        let approvals = decided.filter { !disabled.contains($0.approverId) }
        return approvals.count >= stages[index].requiredApprovals ? .approved : .pending
    }

    /// Whether someone with these identities (themselves and their groups, expanded now) may decide
    /// the current stage at `time`.
    public func mayDecide(identities: Set<Principal.ID>, at time: Date) -> Bool {
        if !identities.isDisjoint(with: stage.approvers) { return true }
        guard let escalation = stage.escalation, time >= stageStartedAt + escalation.after else { return false }
        return !identities.isDisjoint(with: escalation.approvers)
    }

    func timers(for requestId: Request.ID) -> [Effect] {
        var effects: [Effect] = [.schedule(.stageTimeout(requestId, stage: currentStage), at: deadline)]
        if let escalationTime {
            effects.append(.schedule(.escalation(requestId, stage: currentStage), at: escalationTime))
        }
        return effects
    }
}
