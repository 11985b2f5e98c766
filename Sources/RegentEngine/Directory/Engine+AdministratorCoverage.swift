import Foundation
import RegentCore
import RegentStore

extension Engine {
    /// The facts of the never-without-an-administrator rule (``AdministratorCoverage``), read in
    /// the transaction that is about to change them; nil when there is no `regent-admin` role yet.
    func administratorCoverage(in tx: StoreTransaction, graph: MembershipGraph? = nil) async throws
        -> AdministratorCoverage?
    {
        guard let role = try await tx.role(named: Role.BuiltIn.regentAdmin.rawValue) else { return nil }
        let graph = if let graph { graph } else { try await tx.membershipGraph() }
        return AdministratorCoverage(
            assignments: try await tx.assignments(
                AssignmentFilter(roleId: role.id, kind: .active, states: AssignmentFilter.live)),
            graph: graph, users: try await tx.principalIDs(kind: .user))
    }

    /// Refuses a directory change (disabling, membership) after which no enabled user would hold
    /// `regent-admin` in force.
    func requireAdministratorCoverage(
        in tx: StoreTransaction, now: Date, after change: (inout MembershipGraph) -> Void
    ) async throws {
        guard let coverage = try await administratorCoverage(in: tx) else { return }
        var after = coverage
        change(&after.graph)
        if coverage.isLost(by: after, at: now) {
            throw RegentError(
                .conflict, "this would leave Regent without an enabled regent-admin", field: "principalId")
        }
    }
}
