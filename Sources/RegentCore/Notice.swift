public import Foundation

/// Someone is to be told what happened. The core decides that a notice is due and what it is
/// about, as an effect of the same transition that audits the event; the engine addresses it
/// (the role's notification rules, opt-outs, reviewers) and writes it to the outbox in that
/// transaction. So a notification can never be lost by renaming an audit action.
public enum Notice: Hashable, Sendable {
    /// A stage (or, once escalated, its escalation) waits on these approvers.
    case approvalNeeded(Request.ID, stage: Int, approvers: [Principal.ID], escalated: Bool, deadline: Date)
    /// Approvers approved every stage.
    case requestApproved(Request.ID)
    /// An approver denied the request, or its stage timed out.
    case requestDenied(Request.ID, reason: String?, timedOut: Bool)
    case activationStarted(Assignment.ID)
    case activationEnded(Assignment.ID)
    case assignmentCreated(Assignment.ID)
    case assignmentRemoved(Assignment.ID)
    /// An occurrence opened; its reviewers are asked to decide.
    case reviewStarted(ReviewInstance.ID, reviewers: Set<Principal.ID>, items: Int)
    /// Halfway through an occurrence, the reviewers of items still undecided.
    case reviewReminder(ReviewInstance.ID, reviewers: Set<Principal.ID>, items: Int)
    /// An occurrence ended; its creator and completion recipients are told the result.
    case reviewCompleted(ReviewInstance.ID, denied: Int)
    /// An alert was raised or reopened; Regent's administrators are told.
    case alertRaised(AlertRule)

    public var topic: NotificationTopic {
        switch self {
        case .approvalNeeded: .approvalNeeded
        case .requestApproved: .requestApproved
        case .requestDenied: .requestDenied
        case .activationStarted: .activationStarted
        case .activationEnded: .activationEnded
        case .assignmentCreated: .assignmentCreated
        case .assignmentRemoved: .assignmentRemoved
        case .reviewStarted: .reviewStarted
        case .reviewReminder: .reviewReminder
        case .reviewCompleted: .reviewCompleted
        case .alertRaised: .alertRaised
        }
    }
}

extension Request {
    /// Requests whose story is told by mail: a person asking for their own access. What an
    /// administrator does is told through the assignment it makes or ends.
    var isNotified: Bool { action == .selfActivate || action == .selfExtend || action == .selfRenew }

    /// The approvers the current stage waits on now (its escalation's, once escalated).
    func approvalNotice(escalated: Bool) -> [Effect] {
        guard isNotified, status == .pendingApproval, let approval else { return [] }
        let approvers = escalated ? approval.stage.escalation?.approvers ?? [] : approval.stage.approvers
        return [
            .notify(
                .approvalNeeded(
                    id, stage: approval.currentStage, approvers: approvers, escalated: escalated,
                    deadline: approval.deadline))
        ]
    }

    func notice(_ notice: Notice) -> [Effect] { isNotified ? [.notify(notice)] : [] }
}

extension Assignment {
    /// The notice of a new assignment: made, or (an activation) in force at once.
    var createdNotice: [Effect] {
        if isActivation {
            state == .active ? [.notify(.activationStarted(id))] : []
        } else {
            [.notify(.assignmentCreated(id))]
        }
    }

    /// The notice of an assignment ending; a canceled one never began, and tells nobody.
    func endNotice(_ reason: EndReason) -> [Effect] {
        guard reason != .canceled else { return [] }
        return [.notify(isActivation ? .activationEnded(id) : .assignmentRemoved(id))]
    }
}
