/// Group memberships (a group's direct members, which may be groups) and which principals are
/// disabled: the one expansion every decision about "who is this caller" uses — authorization,
/// requests, checks, tokens, certificates, approvals, reviews and alerts.
///
/// Two views, for two kinds of question:
/// - *rights* (`identities`, `effectiveGroups`, `transitiveMembers`): a disabled principal gives
///   nothing and passes nothing on, so a walk never goes through a disabled group;
/// - *conflicts of interest* (`selfIdentities`, `everyMember`): every group, disabled or not,
///   because a group that is disabled today can be enabled tomorrow, and whoever is in it must
///   still not approve, review or assign its access.
///
/// Every walk keeps a visited set, so a cycle that reached the store by any path cannot hang an
/// authorization decision.
public struct MembershipGraph: Sendable, Equatable {
    /// group → direct members
    public private(set) var members: [Principal.ID: Set<Principal.ID>] = [:]
    /// member → groups it is directly in
    public private(set) var parents: [Principal.ID: Set<Principal.ID>] = [:]
    /// Principals (users, groups, services) that are disabled.
    public private(set) var disabled: Set<Principal.ID> = []

    public init() {}

    public init(edges: [(group: Principal.ID, member: Principal.ID)], disabled: Set<Principal.ID> = []) {
        for edge in edges { insert(member: edge.member, into: edge.group) }
        self.disabled = disabled
    }

    public mutating func insert(member: Principal.ID, into group: Principal.ID) {
        members[group, default: []].insert(member)
        parents[member, default: []].insert(group)
    }

    public mutating func remove(member: Principal.ID, from group: Principal.ID) {
        members[group]?.remove(member)
        parents[member]?.remove(group)
    }

    public mutating func setEnabled(_ principal: Principal.ID, _ enabled: Bool) {
        if enabled { disabled.remove(principal) } else { disabled.insert(principal) }
    }

    /// Takes which principals are disabled from `other`, keeping these memberships.
    public mutating func takeDisabled(from other: MembershipGraph) { disabled = other.disabled }

    public func isEnabled(_ principal: Principal.ID) -> Bool { !disabled.contains(principal) }

    /// Every enabled group the principal is in, directly or through enabled nested groups; empty
    /// for a disabled principal.
    public func effectiveGroups(of principal: Principal.ID) -> Set<Principal.ID> {
        guard isEnabled(principal) else { return [] }
        return walk(from: principal, along: parents, throughDisabled: false)
    }

    /// Every principal that holds what `group` holds: its members through enabled groups (groups
    /// included); empty for a disabled group.
    public func transitiveMembers(of group: Principal.ID) -> Set<Principal.ID> {
        guard isEnabled(group) else { return [] }
        return walk(from: group, along: members, throughDisabled: false)
    }

    /// The identities whose assignments and rights the principal uses now: itself and its
    /// effective groups; empty for a disabled principal.
    public func identities(of principal: Principal.ID) -> Set<Principal.ID> {
        guard isEnabled(principal) else { return [] }
        return effectiveGroups(of: principal).union([principal])
    }

    /// What counts as "the caller themself": the principal and every group it is in, directly or
    /// nested, enabled or not.
    public func selfIdentities(of principal: Principal.ID) -> Set<Principal.ID> {
        walk(from: principal, along: parents, throughDisabled: true).union([principal])
    }

    /// Everyone who holds, or would hold once every group is enabled, what `principal` is given:
    /// the principal and all its members, nested, enabled or not.
    public func everyMember(of principal: Principal.ID) -> Set<Principal.ID> {
        walk(from: principal, along: members, throughDisabled: true).union([principal])
    }

    /// Adding `member` to `group` would close a loop when the member already contains the group
    /// (disabled groups included: they may be enabled again).
    public func wouldCreateCycle(adding member: Principal.ID, to group: Principal.ID) -> Bool {
        member == group || walk(from: group, along: parents, throughDisabled: true).contains(member)
    }

    private func walk(
        from start: Principal.ID, along edges: [Principal.ID: Set<Principal.ID>], throughDisabled: Bool
    ) -> Set<Principal.ID> {
        var seen: Set<Principal.ID> = []
        var frontier = Array(edges[start] ?? [])
        while let next = frontier.popLast() {
            guard next != start, throughDisabled || isEnabled(next), seen.insert(next).inserted else { continue }
            frontier.append(contentsOf: edges[next] ?? [])
        }
        return seen
    }
}
