public import Foundation

/// The approval a policy requires: 1–3 serial stages that must all approve.
public struct Approval: Hashable, Sendable, Codable {
    public var stages: [ApprovalStage]

    public static let none = Approval(stages: [])
    public static let maximumStages = 3

    public init(stages: [ApprovalStage]) { self.stages = stages }

    public var isRequired: Bool { !stages.isEmpty }
}

/// One approval stage: who may decide, how many approvals it needs, how long it waits, and who
/// else may decide once it has waited long enough.
public struct ApprovalStage: Hashable, Sendable, Codable {
    public static let defaultTimeout = ISODuration.hours(24)

    /// Users or groups; groups are expanded when a decision is made, not when the request is filed.
    public var approvers: [Principal.ID]
    public var requiredApprovals: Int
    public var timeout: ISODuration
    public var escalation: Escalation?

    public init(
        approvers: [Principal.ID], requiredApprovals: Int = 1, timeout: ISODuration = Self.defaultTimeout,
        escalation: Escalation? = nil
    ) {
        self.approvers = approvers
        self.requiredApprovals = requiredApprovals
        self.timeout = timeout
        self.escalation = escalation
    }
}

/// After `after` has passed in a stage, `approvers` may decide it too.
public struct Escalation: Hashable, Sendable, Codable {
    public var approvers: [Principal.ID]
    public var after: ISODuration

    public init(approvers: [Principal.ID], after: ISODuration) {
        self.approvers = approvers
        self.after = after
    }
}

/// A cap on how often one principal may activate one role.
public struct ActivationLimit: Hashable, Sendable, Codable {
    public var count: Int
    public var window: ISODuration

    public init(count: Int, window: ISODuration) {
        self.count = count
        self.window = window
    }

    /// Whether one more activation starting at `start` would put more than `count` activations in
    /// some window of this length, counting `others` (earlier ones and scheduled ones alike).
    /// Windows are `(t − window, t]`; those containing `start` have `t` in `[start, start + window)`,
    /// and the count within them only rises where `t` reaches a start, so those are the ends to try.
    public func isExceeded(adding start: Date, to others: [Date]) -> Bool {
        let length = window.timeInterval
        let ends = [start] + others.filter { $0 >= start && $0 < start + length }
        return ends.contains { end in others.filter { $0 > end - length && $0 <= end }.count >= count }
    }
}

/// A policy's setting for `maxActivations`: an explicit "no limit" overrides an inherited limit.
public enum ActivationCap: Hashable, Sendable, Codable {
    case unlimited
    case atMost(ActivationLimit)

    var limit: ActivationLimit? {
        if case .atMost(let limit) = self { limit } else { nil }
    }
}

/// How long an admin-made assignment may last: permanent if allowed, otherwise at most `maximumDuration`.
public struct AssignmentExpiration: Hashable, Sendable, Codable {
    public var allowPermanent: Bool
    public var maximumDuration: ISODuration?

    public init(allowPermanent: Bool, maximumDuration: ISODuration?) {
        self.allowPermanent = allowPermanent
        self.maximumDuration = maximumDuration
    }
}

/// Who is told about what, per DESIGN.md §3: an event × a recipient class at a level.
public struct NotificationRule: Hashable, Sendable, Codable {
    public enum Event: String, Sendable, Codable, CaseIterable { case eligibleAssigned, activeAssigned, activation }
    public enum Recipient: String, Sendable, Codable, CaseIterable { case admins, requester, approvers }
    public enum Level: String, Sendable, Codable, CaseIterable { case none, critical, all }

    public var event: Event
    public var recipient: Recipient
    public var level: Level
    public var extraRecipients: [String]

    public init(event: Event, recipient: Recipient, level: Level, extraRecipients: [String] = []) {
        self.event = event
        self.recipient = recipient
        self.level = level
        self.extraRecipients = extraRecipients
    }
}
