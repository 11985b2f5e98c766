/// Group memberships (a group's direct members, which may be groups). Every walk keeps a visited
/// set, so a cycle that reached the store by any path cannot hang an authorization decision.
public struct MembershipGraph: Sendable, Equatable {
    /// group → direct members
    public private(set) var members: [Principal.ID: Set<Principal.ID>] = [:]
    /// member → groups it is directly in
    public private(set) var parents: [Principal.ID: Set<Principal.ID>] = [:]

    public init() {}

    public init(edges: [(group: Principal.ID, member: Principal.ID)]) {
        for edge in edges { insert(member: edge.member, into: edge.group) }
    }

    public mutating func insert(member: Principal.ID, into group: Principal.ID) {
        members[group, default: []].insert(member)
        parents[member, default: []].insert(group)
    }

    public mutating func remove(member: Principal.ID, from group: Principal.ID) {
        members[group]?.remove(member)
        parents[member]?.remove(group)
    }

    /// Every group the principal is in, directly or through nested groups.
    public func effectiveGroups(of principal: Principal.ID) -> Set<Principal.ID> {
        walk(from: principal, along: parents)
    }

    /// Every principal inside a group, directly or through nested groups (groups included).
    public func transitiveMembers(of group: Principal.ID) -> Set<Principal.ID> {
        walk(from: group, along: members)
    }

    /// The principal and all its groups: the identities whose assignments it holds.
    public func identities(of principal: Principal.ID) -> Set<Principal.ID> {
        effectiveGroups(of: principal).union([principal])
    }

    /// Adding `member` to `group` would close a loop when the member already contains the group.
    public func wouldCreateCycle(adding member: Principal.ID, to group: Principal.ID) -> Bool {
        member == group || effectiveGroups(of: group).contains(member)
    }

    private func walk(from start: Principal.ID, along edges: [Principal.ID: Set<Principal.ID>]) -> Set<Principal.ID> {
        var seen: Set<Principal.ID> = []
        var frontier = Array(edges[start] ?? [])
        while let next = frontier.popLast() {
            guard next != start, seen.insert(next).inserted else { continue }
            frontier.append(contentsOf: edges[next] ?? [])
        }
        return seen
    }
}
