public import Foundation

/// principal × role × scope × kind × schedule. Eligible assignments are activated; active ones
/// grant access now. Ended assignments are kept, so history is never deleted.
public struct Assignment: Identifiable, Hashable, Sendable, Codable {
    public typealias ID = Identifier<Assignment>

    public enum Kind: String, Sendable, Codable, CaseIterable {
        case eligible
        case active
    }

    public enum State: String, Sendable, Codable, CaseIterable {
        case scheduled
        case active
        case ended
    }

    public enum EndReason: String, Sendable, Codable, CaseIterable {
        case expired
        case removed
        case deactivated
        case revokedByReview
        case canceled
        /// Its holder was disabled or deleted, or no longer has what it came from (see
        /// ``AccessWithdrawal``).
        case withdrawn

        var auditAction: AuditAction {
            switch self {
            case .expired: .assignmentExpired
            case .removed: .assignmentRemoved
            case .deactivated: .assignmentDeactivated
            case .revokedByReview: .assignmentRevoked
            case .canceled: .assignmentCanceled
            case .withdrawn: .assignmentWithdrawn
            }
        }
    }

    public let id: ID
    public let kind: Kind
    public let principalId: Principal.ID
    public let roleId: Role.ID
    public let scope: Scope
    public internal(set) var start: Date
    /// nil: permanent.
    public internal(set) var end: Date?
    public internal(set) var state: State
    public internal(set) var endReason: EndReason?
    public internal(set) var endedAt: Date?
    /// The request that created it.
    public let requestId: Request.ID?
    /// For an activation: the eligible assignment it was activated from.
    public let activatedFrom: Assignment.ID?
    public let createdAt: Date

    public var isPermanent: Bool { end == nil }
    public var isActivation: Bool { activatedFrom != nil }

    /// Whether it is in force at `time`: started, not past its end and not ended.
    public func isInForce(at time: Date) -> Bool {
        state != .ended && start <= time && (end.map { time < $0 } ?? true)
    }

    /// Restores a stored assignment; only the store calls this.
    public init(
        id: ID, kind: Kind, principalId: Principal.ID, roleId: Role.ID, scope: Scope, start: Date, end: Date?,
        state: State, endReason: EndReason?, endedAt: Date?, requestId: Request.ID?, activatedFrom: Assignment.ID?,
        createdAt: Date
    ) {
        self.id = id
        self.kind = kind
        self.principalId = principalId
        self.roleId = roleId
        self.scope = scope
        self.start = start
        self.end = end
        self.state = state
        self.endReason = endReason
        self.endedAt = endedAt
        self.requestId = requestId
        self.activatedFrom = activatedFrom
        self.createdAt = createdAt
    }
}
