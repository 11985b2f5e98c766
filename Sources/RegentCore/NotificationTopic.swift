/// What a notification is about. The raw values are stable: webhook receivers switch on them.
public enum NotificationTopic: String, Sendable, Codable, CaseIterable {
    case approvalNeeded
    case requestApproved
    case requestDenied
    case activationStarted
    case activationEnded
    case assignmentCreated
    case assignmentRemoved
    case assignmentExpiring
    case alertRaised
    case reviewStarted
    case reviewReminder
    case reviewCompleted

    /// Critical notifications ask for an action or report a loss of access or a risk; they are
    /// sent at the `critical` level and ignore a user's opt-out of non-critical mail.
    public var isCritical: Bool {
        switch self {
        case .approvalNeeded, .requestDenied, .assignmentRemoved, .assignmentExpiring, .alertRaised, .reviewStarted,
            .reviewReminder:
            true
        case .requestApproved, .activationStarted, .activationEnded, .assignmentCreated, .reviewCompleted: false
        }
    }

    /// The recipient classes of the policy's notification rules this topic goes to.
    public var recipients: [NotificationRule.Recipient] {
        switch self {
        case .approvalNeeded: [.approvers]
        case .requestApproved, .requestDenied: [.requester]
        case .activationStarted, .activationEnded: [.requester, .admins, .approvers]
        case .assignmentCreated, .assignmentRemoved, .assignmentExpiring: [.requester, .admins]
        case .alertRaised, .reviewStarted, .reviewReminder, .reviewCompleted: []
        }
    }

    /// The policy event whose rules govern this topic for an assignment of `kind` (activations are
    /// active assignments made from an eligibility); nil for topics no role policy governs.
    public func policyEvent(kind: Assignment.Kind, isActivation: Bool) -> NotificationRule.Event? {
        switch self {
        case .approvalNeeded, .requestApproved, .requestDenied, .activationStarted, .activationEnded: .activation
        case .assignmentCreated, .assignmentRemoved, .assignmentExpiring:
            isActivation ? .activation : (kind == .eligible ? .eligibleAssigned : .activeAssigned)
        case .alertRaised, .reviewStarted, .reviewReminder, .reviewCompleted: nil
        }
    }
}

extension NotificationRule.Level {
    /// Whether a notification of `topic` is sent at this level.
    public func sends(_ topic: NotificationTopic) -> Bool {
        switch self {
        case .none: false
        case .critical: topic.isCritical
        case .all: true
        }
    }
}
