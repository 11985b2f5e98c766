public import Foundation

/// What a transition asks the engine to do. The engine persists the new state and these effects in
/// one transaction, then performs them, so nothing is granted that is not recorded.
public enum Effect: Hashable, Sendable {
    case audit(AuditNote)
    case schedule(TimerKind, at: Date)
    case saveAssignment(Assignment)
    case grant(Assignment.ID)
    case revoke(Assignment.ID)
    /// The assignment a request created has ended: move that request to `expired` or `revoked`.
    case closeRequest(Request.ID, because: Assignment.EndReason)
    case saveAlert(Alert)
    case saveReview(ReviewInstance)
    /// Someone is told; queued in the same transaction, after every other effect.
    case notify(Notice)
}

/// A timer the scheduler fires at its due time. Every timer is re-checked against the current
/// state when it fires, so a stale one (the request was approved, the assignment was extended) does nothing.
public enum TimerKind: Hashable, Sendable, Codable {
    case stageTimeout(Request.ID, stage: Int)
    case escalation(Request.ID, stage: Int)
    case assignmentStart(Assignment.ID)
    case assignmentExpiry(Assignment.ID)
}

public enum AuditOutcome: String, Hashable, Sendable, Codable, CaseIterable {
    case success
    case denied
    case failed
}

/// The core's description of an audit event; the engine adds the actor, time, subject and chain.
public struct AuditNote: Hashable, Sendable {
    public var action: AuditAction
    public var outcome: AuditOutcome
    public var reason: String?
    public var details: [String: String]

    public init(
        _ action: AuditAction, _ outcome: AuditOutcome = .success, reason: String? = nil,
        details: [String: String] = [:]
    ) {
        self.action = action
        self.outcome = outcome
        self.reason = reason
        self.details = details
    }
}

extension Date {
    /// RFC 3339 UTC with seconds, the one spelling of a time in audit details and the API.
    public var rfc3339: String { formatted(.iso8601) }
}
