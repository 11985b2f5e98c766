public import Foundation
public import RegentCore

/// A unit of deferred work in the outbox: a timer, a grant or a revocation. Jobs are written in the
/// transaction of the change that needs them and run idempotently, at least once.
public struct Job: Hashable, Sendable, Identifiable {
    public enum Kind: Hashable, Sendable, Codable {
        case timer(TimerKind)
        case grant(Assignment.ID)
        case revoke(Assignment.ID)

        var label: String {
            switch self {
            case .timer: "timer"
            case .grant: "grant"
            case .revoke: "revoke"
            }
        }
    }

    public let id: UUID
    public let kind: Kind
    /// Jobs about the same assignment or request share a lane and never run at the same time,
    /// on one replica or across several.
    public var lane: String {
        switch kind {
        case .grant(let id), .revoke(let id), .timer(.assignmentStart(let id)), .timer(.assignmentExpiry(let id)):
            "a:\(id)"
        case .timer(.stageTimeout(let id, _)), .timer(.escalation(let id, _)):
            "r:\(id)"
        }
    }
    public let dueAt: Date
    /// Attempts so far, counting the claim that handed the job out.
    public let attempts: Int
    public let lastError: String?
    /// When it was enqueued, as read back from the store; nil on a job not yet stored.
    public let createdAt: Date?

    public init(
        id: UUID, kind: Kind, dueAt: Date, attempts: Int = 0, lastError: String? = nil, createdAt: Date? = nil
    ) {
        self.id = id
        self.kind = kind
        self.dueAt = dueAt
        self.attempts = attempts
        self.lastError = lastError
        self.createdAt = createdAt
    }
}
