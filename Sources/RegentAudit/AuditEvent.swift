public import Foundation
public import RegentCore

/// Who did it, from where.
public struct AuditActor: Hashable, Sendable, Codable {
    public var principalId: Principal.ID?
    public var name: String
    public var sourceAddress: String?
    public var userAgent: String?

    public init(principalId: Principal.ID?, name: String, sourceAddress: String? = nil, userAgent: String? = nil) {
        self.principalId = principalId
        self.name = name
        self.sourceAddress = sourceAddress
        self.userAgent = userAgent
    }

    /// Regent itself (the scheduler, bootstrap), for actions no person took.
    public static let system = AuditActor(principalId: nil, name: "system")
}

/// What it was about.
public struct AuditSubject: Hashable, Sendable, Codable {
    public var principalId: Principal.ID?
    public var roleId: Role.ID?
    public var scope: Scope?

    public init(principalId: Principal.ID? = nil, roleId: Role.ID? = nil, scope: Scope? = nil) {
        self.principalId = principalId
        self.roleId = roleId
        self.scope = scope
    }
}

/// An event before it joins the chain: everything but its position and hashes.
public struct AuditDraft: Hashable, Sendable {
    public var id: UUID
    public var time: Date
    public var actor: AuditActor
    public var action: AuditAction
    public var subject: AuditSubject
    public var outcome: AuditOutcome
    public var reason: String?
    public var correlationId: String?
    public var details: [String: String]

    public init(
        id: UUID, time: Date, actor: AuditActor, action: AuditAction, subject: AuditSubject = AuditSubject(),
        outcome: AuditOutcome = .success, reason: String? = nil, correlationId: String? = nil,
        details: [String: String] = [:]
    ) {
        self.id = id
        self.time = time
        self.actor = actor
        self.action = action
        self.subject = subject
        self.outcome = outcome
        self.reason = reason
        self.correlationId = correlationId
        self.details = details
    }
}

/// One immutable record of the hash-chained audit log. `hash` is SHA-256 over `prevHash` and the
/// canonical encoding, so changing, removing or reordering any record breaks every later link.
public struct AuditEvent: Hashable, Sendable, Codable {
    public var seq: Int64
    public var id: UUID
    /// Whole milliseconds, the precision that is stored and hashed.
    public var time: Date
    public var actor: AuditActor
    public var action: String
    public var subject: AuditSubject
    public var outcome: AuditOutcome
    public var reason: String?
    public var correlationId: String?
    public var details: [String: String]
    public var prevHash: String
    public var hash: String

    /// The `prevHash` of the first event.
    public static let genesisHash = String(repeating: "0", count: 64)

    /// Chains `draft` after the event whose hash is `prevHash`.
    public init(seq: Int64, draft: AuditDraft, prevHash: String) {
        self.init(
            seq: seq, id: draft.id, time: Date(milliseconds: draft.time.milliseconds), actor: draft.actor,
            action: draft.action.rawValue, subject: draft.subject, outcome: draft.outcome, reason: draft.reason,
            correlationId: draft.correlationId, details: draft.details, prevHash: prevHash, hash: "")
        hash = computedHash()
    }

    /// Restores a stored event as it was read, hash included, for verification.
    public init(
        seq: Int64, id: UUID, time: Date, actor: AuditActor, action: String, subject: AuditSubject,
        outcome: AuditOutcome, reason: String?, correlationId: String?, details: [String: String], prevHash: String,
        hash: String
    ) {
        self.seq = seq
        self.id = id
        self.time = time
        self.actor = actor
        self.action = action
        self.subject = subject
        self.outcome = outcome
        self.reason = reason
        self.correlationId = correlationId
        self.details = details
        self.prevHash = prevHash
        self.hash = hash
    }
}

extension Date {
    public var milliseconds: Int64 { Int64((timeIntervalSince1970 * 1000).rounded(.down)) }
    public init(milliseconds: Int64) { self.init(timeIntervalSince1970: TimeInterval(milliseconds) / 1000) }
}
