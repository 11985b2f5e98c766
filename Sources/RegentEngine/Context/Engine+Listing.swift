public import Foundation
public import RegentCore
public import RegentStore

/// A slice of a longer list; `nextOffset` is nil on the last page.
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    public var nextOffset: Int?
}

/// Listings for the API, each with its read rule: everyone's data for administrators and security
/// readers, one's own for everyone else.
extension Engine {

    /// A page of `limit` items from `limit + 1` read, which tells whether another page follows.
    func page<Item>(_ items: [Item], offset: Int, limit: Int) -> Page<Item> {
        Page(items: Array(items.prefix(limit)), nextOffset: items.count > limit ? offset + limit : nil)
    }
}

extension Engine {
    /// One live assignment of the actor (their own or a group's), with the role's name and what
    /// is left of it.
    public struct HeldRole: Sendable {
        public var assignment: Assignment
        public var roleName: String
        /// Seconds until it ends; nil when permanent.
        public var secondsLeft: Int?
        /// The group it comes through, when not the actor's own.
        public var viaGroup: Principal.ID?
    }

}

extension RequestService {
    /// Assignments matching `filter`; without the read-all right, only the actor's own (and those of
    /// the groups the actor is in).
    public func listAssignments(
        _ filter: AssignmentFilter, by actor: ActorContext, offset: Int, limit: Int
    ) async throws -> Page<Assignment> {
        var filter = filter
        if try await !engine.permits(actor, .readEverything) {
            let own = try await engine.store.transaction { try await $0.membershipGraph() }.identities(
                of: actor.principalId)
            if let asked = filter.principalIds, !asked.isSubset(of: own) {
                let error = RegentError(.accessDenied, "you may list only your own assignments", field: "principal")
                try await engine.recordRefusal(actor, operation: #function, error)
                throw error
            }
            filter.principalIds = filter.principalIds ?? own
        }
        let query = filter
        let items = try await engine.store.transaction {
            try await $0.assignments(query, limit: limit + 1, offset: offset)
        }
        return engine.page(items, offset: offset, limit: limit)
    }

    /// Requests: `mine` (filed by the actor), `awaitingMe` (the actor may decide their current stage
    /// now; the nearest deadline first), or all of them for those who may read everything.
    public func listRequests(
        status: Request.Status?, mine: Bool, awaitingMe: Bool, by actor: ActorContext, offset: Int, limit: Int
    ) async throws -> Page<Request> {
        let now = engine.clock.now()
        if awaitingMe {
            let waiting = try await engine.store.transaction { tx -> [Request] in
                let identities = try await tx.membershipGraph().identities(of: actor.principalId)
                return try await tx.requests(status: .pendingApproval, limit: 10_000).filter { request in
                    guard let approval = request.approval, request.requesterId != actor.principalId,
                        request.principalId != actor.principalId, now < approval.deadline,
                        approval.mayDecide(identities: identities, at: now)
                    else { return false }
                    return !approval.decisions.contains {
                        $0.stage == approval.currentStage && $0.approverId == actor.principalId
                    }
                }
                .sorted { ($0.approval?.deadline ?? .distantFuture) < ($1.approval?.deadline ?? .distantFuture) }
            }
            return engine.page(Array(waiting.dropFirst(offset).prefix(limit + 1)), offset: offset, limit: limit)
        }
        if !mine { try await engine.authorize(actor, .readEverything) }
        let requester = mine ? actor.principalId : nil
        let items = try await engine.store.transaction {
            try await $0.requests(status: status, requester: requester, limit: limit + 1, offset: offset)
        }
        return engine.page(items, offset: offset, limit: limit)
    }

    /// The actor's roles (their own or a group's) that ended at or after `since`, newest first: what
    /// "recently ended" shows, so a user sees that an activation expired or was taken away.
    public func myEndedRoles(_ actor: ActorContext, since: Date, limit: Int = 20) async throws -> [Engine.HeldRole] {
        try await engine.store.transaction { tx in
            let identities = try await tx.membershipGraph().identities(of: actor.principalId)
            var ended: [Engine.HeldRole] = []
            for assignment in try await tx.assignments(
                AssignmentFilter(principalIds: identities, states: [.ended], endedSince: since), limit: limit)
            {
                guard let role = try await tx.role(id: assignment.roleId) else { continue }
                ended.append(
                    Engine.HeldRole(
                        assignment: assignment, roleName: role.name, secondsLeft: nil,
                        viaGroup: assignment.principalId == actor.principalId ? nil : assignment.principalId))
            }
            return ended
        }
    }

    /// The actor's eligible and active roles that have not ended, newest first.
    public func myRoles(_ actor: ActorContext) async throws -> [Engine.HeldRole] {
        let now = engine.clock.now()
        return try await engine.store.transaction { tx in
            let identities = try await tx.membershipGraph().identities(of: actor.principalId)
            var held: [Engine.HeldRole] = []
            for assignment in try await tx.assignments(
                AssignmentFilter(principalIds: identities, states: AssignmentFilter.live))
            where assignment.end.map({ $0 > now }) ?? true {
                guard let role = try await tx.role(id: assignment.roleId) else { continue }
                held.append(
                    Engine.HeldRole(
                        assignment: assignment, roleName: role.name,
                        secondsLeft: assignment.end.map { Int($0.timeIntervalSince(now).rounded(.down)) },
                        viaGroup: assignment.principalId == actor.principalId ? nil : assignment.principalId))
            }
            return held
        }
    }
}

extension DirectoryService {
    public func listPrincipals(by actor: ActorContext, offset: Int, limit: Int) async throws -> Page<Principal> {
        try await engine.authorize(actor, .readEverything)
        let items = try await engine.store.transaction { try await $0.principals(limit: limit + 1, offset: offset) }
        return engine.page(items, offset: offset, limit: limit)
    }

    /// Role names and entitlements are visible to every signed-in user: they need them to activate.
    public func listRoles(offset: Int, limit: Int) async throws -> Page<Role> {
        let items = try await engine.store.transaction { try await $0.roles(limit: limit + 1, offset: offset) }
        return engine.page(items, offset: offset, limit: limit)
    }

    /// The role's own policy at `scope` (nil when it has none) and the effective one there.
    public func policies(role: Role.ID, scope: Scope) async throws -> (own: Policy?, effective: EffectivePolicy) {
        let all = try await engine.store.transaction { try await $0.policies(role: role) }
        return (all.first { $0.scope == scope }?.policy, EffectivePolicy.resolve(all, at: scope))
    }

    /// Who is in which group, for administrators and security readers.
    public func membership(by actor: ActorContext) async throws -> MembershipGraph {
        try await engine.authorize(actor, .readEverything)
        return try await engine.store.transaction { try await $0.membershipGraph() }
    }
}
