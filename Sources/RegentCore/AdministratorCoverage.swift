public import Foundation

/// The rule of DESIGN.md §2 that Regent is never left without an administrator: some enabled
/// *user* holds `regent-admin` in force, directly or through enabled groups. One computation for
/// every path that can end or disable that coverage — removal, expiry, self-deactivation, derived
/// activations, review denial, disabling, membership change — each of which applies its change to
/// a copy (ending assignments, disabling a principal, removing a member) and asks again.
///
/// ```swift
/// var after = coverage
/// after.graph.setEnabled(bob, false)
/// if coverage.isLost(by: after, at: now) { /* refuse: lastAdministrator */ }
/// ```
public struct AdministratorCoverage: Sendable, Equatable {
    /// The live active assignments of `regent-admin` (an ended one is ignored).
    public var assignments: [Assignment]
    public var graph: MembershipGraph
    /// Which principals are users: only a user can sign in and administer.
    public var users: Set<Principal.ID>
    /// Assignments the change ends, as if they had ended.
    public var ending: Set<Assignment.ID> = []

    public init(assignments: [Assignment], graph: MembershipGraph, users: Set<Principal.ID>) {
        self.assignments = assignments.filter { $0.kind == .active }
        self.graph = graph
        self.users = users
    }

    /// The enabled users who administer Regent at `time`.
    public func administrators(at time: Date) -> Set<Principal.ID> {
        var result: Set<Principal.ID> = []
        for assignment in assignments where !ending.contains(assignment.id) && assignment.isInForce(at: time) {
            result.formUnion(administrators(through: assignment))
        }
        return result
    }

    /// The enabled users `assignment` makes administrators, whatever its times.
    public func administrators(through assignment: Assignment) -> Set<Principal.ID> {
        guard graph.isEnabled(assignment.principalId) else { return [] }
        return graph.transitiveMembers(of: assignment.principalId).union([assignment.principalId])
            .filter { users.contains($0) && graph.isEnabled($0) }
    }

    /// The same facts with `ids` ended.
    public func ending(_ ids: some Sequence<Assignment.ID>) -> AdministratorCoverage {
        var copy = self
        copy.ending.formUnion(ids)
        return copy
    }

    /// Whether going from these facts to `after` takes away the last administrator. A change that
    /// finds Regent without one already makes nothing worse and is not what this refuses.
    public func isLost(by after: AdministratorCoverage, at time: Date) -> Bool {
        !administrators(at: time).isEmpty && after.administrators(at: time).isEmpty
    }

    /// Whether `assignment`, reaching its end at `time`, is the last that keeps an administrator:
    /// then it must not lapse.
    public func isLastCover(_ assignment: Assignment, at time: Date) -> Bool {
        assignments.contains { $0.id == assignment.id } && !administrators(through: assignment).isEmpty
            && ending([assignment.id]).administrators(at: time).isEmpty
    }
}
