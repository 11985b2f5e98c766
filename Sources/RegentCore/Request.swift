public import Foundation

/// Every change to assignments goes through a request; requests are kept forever as history.
public struct Request: Identifiable, Hashable, Sendable, Codable {
    public typealias ID = Identifier<Request>

    /// Graph's request actions.
    public enum Action: String, Sendable, Codable, CaseIterable {
        case adminAssign, adminUpdate, adminRemove, adminExtend, adminRenew
        case selfActivate, selfDeactivate, selfExtend, selfRenew

        public var isSelfService: Bool { rawValue.hasPrefix("self") }

        /// Actions that act on an existing assignment named by `targetAssignmentId`.
        public var needsTarget: Bool { ![.adminAssign, .selfActivate].contains(self) }
    }

    /// DESIGN.md §2's request states (Graph's names where they exist).
    public enum Status: String, Sendable, Codable, CaseIterable {
        case denied, pendingApproval, approved, canceled, timedOut, scheduled, provisioning, provisioned
        case expired, revoked, failed
    }

    public struct Ticket: Hashable, Sendable, Codable {
        public var system: String
        public var number: String

        public init(system: String, number: String) {
            self.system = system
            self.number = number
        }
    }

    public let id: ID
    public let action: Action
    public let requesterId: Principal.ID
    public let principalId: Principal.ID
    public let roleId: Role.ID
    public let scope: Scope
    public let kind: Assignment.Kind
    public let justification: String?
    public let ticket: Ticket?
    public let requestedStart: Date?
    public let duration: ISODuration?
    public let targetAssignmentId: Assignment.ID?
    /// The assignment this request creates (reserved at submission) or acts on.
    public let assignmentId: Assignment.ID?
    public internal(set) var status: Status
    public internal(set) var failedRules: [PolicyRule]
    public internal(set) var reason: String?
    public internal(set) var approval: ApprovalProgress?
    public let createdAt: Date
    public internal(set) var updatedAt: Date

    /// Restores a stored request; only the store calls this.
    public init(
        id: ID, action: Action, requesterId: Principal.ID, principalId: Principal.ID, roleId: Role.ID, scope: Scope,
        kind: Assignment.Kind, justification: String?, ticket: Ticket?, requestedStart: Date?, duration: ISODuration?,
        targetAssignmentId: Assignment.ID?, assignmentId: Assignment.ID?, status: Status, failedRules: [PolicyRule],
        reason: String?, approval: ApprovalProgress?, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.action = action
        self.requesterId = requesterId
        self.principalId = principalId
        self.roleId = roleId
        self.scope = scope
        self.kind = kind
        self.justification = justification
        self.ticket = ticket
        self.requestedStart = requestedStart
        self.duration = duration
        self.targetAssignmentId = targetAssignmentId
        self.assignmentId = assignmentId
        self.status = status
        self.failedRules = failedRules
        self.reason = reason
        self.approval = approval
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// What a requester asks for, before any check.
public struct RequestDraft: Sendable, Hashable {
    public var action: Request.Action
    public var requesterId: Principal.ID
    public var principalId: Principal.ID
    public var roleId: Role.ID
    public var scope: Scope
    public var kind: Assignment.Kind
    public var justification: String?
    public var ticket: Request.Ticket?
    public var start: Date?
    public var duration: ISODuration?
    public var targetAssignmentId: Assignment.ID?

    public init(
        action: Request.Action, requesterId: Principal.ID, principalId: Principal.ID, roleId: Role.ID, scope: Scope,
        kind: Assignment.Kind, justification: String? = nil, ticket: Request.Ticket? = nil, start: Date? = nil,
        duration: ISODuration? = nil, targetAssignmentId: Assignment.ID? = nil
    ) {
        self.action = action
        self.requesterId = requesterId
        self.principalId = principalId
        self.roleId = roleId
        self.scope = scope
        self.kind = kind
        self.justification = justification
        self.ticket = ticket
        self.start = start
        self.duration = duration
        self.targetAssignmentId = targetAssignmentId
    }
}

/// Deployment-wide safeguards (Entra's), configured at start.
public struct Safeguards: Sendable, Hashable {
    /// No assignment or activation shorter than this.
    public var minimumDuration: ISODuration
    /// No self-deactivation within this long after an activation starts.
    public var selfDeactivationDelay: ISODuration
    /// An admin who assigns a role to themselves needs another administrator's approval.
    public var requireSecondAdminForSelfAssignment: Bool
    /// Timeout of the one-stage approval by administrators that separation of duties adds.
    public var administratorApprovalTimeout: ISODuration

    public init(
        minimumDuration: ISODuration = .minutes(5), selfDeactivationDelay: ISODuration = .minutes(5),
        requireSecondAdminForSelfAssignment: Bool = true, administratorApprovalTimeout: ISODuration = .hours(24)
    ) {
        self.minimumDuration = minimumDuration
        self.selfDeactivationDelay = selfDeactivationDelay
        self.requireSecondAdminForSelfAssignment = requireSecondAdminForSelfAssignment
        self.administratorApprovalTimeout = administratorApprovalTimeout
    }
}

/// What the engine knows when a request is filed or moves on: the assignments it concerns and
/// the facts the policy and safeguards need. The engine reads them in the same transaction.
public struct RequestFacts: Sendable {
    /// The assignment the action acts on (remove, update, extend, renew, deactivate).
    public var target: Assignment?
    /// For `selfActivate`: the eligible assignment (the principal's or a group's) that allows it.
    /// For a change to an activation's end: the eligibility it was activated from, which bounds it.
    public var eligibility: Assignment?
    /// An assignment of the same principal, role, scope and kind that has not ended.
    public var existing: Assignment?
    /// Activations made from the target, which end with it when an eligibility is removed.
    public var derivedActivations: [Assignment]
    /// Who holds `regent-admin` now, when the request is about that role: the last-administrator
    /// safeguard asks it whether the change would leave Regent without one.
    public var administratorCoverage: AdministratorCoverage?
    /// Principals who may approve what only an administrator may approve.
    public var administrators: Set<Principal.ID>
    /// Everyone the assignment would give access to: the principal and, for a group, every member
    /// (nested, disabled groups included). The requester among them is assigning to themself.
    public var beneficiaries: Set<Principal.ID>
    /// Principals disabled now: approvals they gave earlier no longer count.
    public var disabledPrincipals: Set<Principal.ID> = []

    public init(
        target: Assignment? = nil, eligibility: Assignment? = nil, existing: Assignment? = nil,
        derivedActivations: [Assignment] = [], administratorCoverage: AdministratorCoverage? = nil,
        administrators: Set<Principal.ID> = [], beneficiaries: Set<Principal.ID> = []
    ) {
        self.target = target
        self.eligibility = eligibility
        self.existing = existing
        self.derivedActivations = derivedActivations
        self.administratorCoverage = administratorCoverage
        self.administrators = administrators
        self.beneficiaries = beneficiaries
    }
}

/// The circumstances of a submission, for conditional access.
public struct RequestContext: Sendable, Hashable {
    public var now: Date
    public var mfaVerifiedAt: Date?
    /// How that MFA was met (`totp`, the provider's `amr:…` / `acr:…`); recorded on the request.
    public var mfaMethod: String?
    public var sourceAddress: IPAddress?
    /// Start times of the principal's other activations of this role from one window before the
    /// new one's start on, scheduled ones included, for `maxActivations`.
    public var recentActivations: [Date]

    public init(
        now: Date, mfaVerifiedAt: Date? = nil, mfaMethod: String? = nil, sourceAddress: IPAddress? = nil,
        recentActivations: [Date] = []
    ) {
        self.now = now
        self.mfaVerifiedAt = mfaVerifiedAt
        self.mfaMethod = mfaMethod
        self.sourceAddress = sourceAddress
        self.recentActivations = recentActivations
    }
}
