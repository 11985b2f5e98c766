public import Foundation

// What the list and search operations take: plain values, so the server can say what it wants
// listed without knowing how the store finds it.

/// Which assignments to list.
public struct AssignmentFilter: Sendable, Hashable {
    public var principalIds: Set<Principal.ID>?
    public var roleId: Role.ID?
    public var kind: Assignment.Kind?
    public var states: Set<Assignment.State>?
    public var scope: Scope?
    /// Only assignments that ended at or after this time.
    public var endedSince: Date?

    public init(
        principalIds: Set<Principal.ID>? = nil, roleId: Role.ID? = nil, kind: Assignment.Kind? = nil,
        states: Set<Assignment.State>? = nil, scope: Scope? = nil, endedSince: Date? = nil
    ) {
        self.principalIds = principalIds
        self.roleId = roleId
        self.kind = kind
        self.states = states
        self.scope = scope
        self.endedSince = endedSince
    }

    /// Not ended: scheduled or in force.
    public static let live: Set<Assignment.State> = [.scheduled, .active]
}

/// Which audit events to find.
public struct AuditFilter: Sendable, Hashable {
    public var from: Date?
    public var to: Date?
    public var actorId: Principal.ID?
    /// An exact action, or a prefix ending in `.` (`request.`).
    public var action: String?
    public var outcome: AuditOutcome?
    public var subjectPrincipalId: Principal.ID?
    public var subjectRoleId: Role.ID?
    public var correlationId: String?

    public init(
        from: Date? = nil, to: Date? = nil, actorId: Principal.ID? = nil, action: String? = nil,
        outcome: AuditOutcome? = nil,
        subjectPrincipalId: Principal.ID? = nil, subjectRoleId: Role.ID? = nil, correlationId: String? = nil
    ) {
        self.from = from
        self.to = to
        self.actorId = actorId
        self.action = action
        self.outcome = outcome
        self.subjectPrincipalId = subjectPrincipalId
        self.subjectRoleId = subjectRoleId
        self.correlationId = correlationId
    }
}

/// Where the next page of a list starts: the sort value and the unique key of the last item of the
/// page before. Keyset paging finds any page through an index, however deep, and an item added or
/// removed meanwhile neither repeats nor skips another (offsets do both).
public struct ListPosition: Sendable, Hashable, Codable {
    /// The last item's sort value when the list is ordered by a time or a number; nil when the list
    /// is ordered by name alone.
    public var value: Int64?
    /// The last item's unique key (its name or id), which orders items of equal value.
    public var key: String

    public init(value: Int64? = nil, key: String) {
        self.value = value
        self.key = key
    }
}
