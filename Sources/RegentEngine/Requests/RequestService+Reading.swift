public import Foundation
import RegentAudit
public import RegentCore
import RegentStore

// Reading requests and assignments, each with its read rule: everyone's for administrators and
// security readers, one's own for everyone else.

/// A page of assignments, and which of their holders are disabled: a disabled person's
/// eligibility is kept (`--disabled-eligibility keep`) until they are enabled again, and a list
/// says whose it is.
public struct AssignmentPage: Sendable {
    public var items: [Assignment]
    public var next: ListPosition?
    public var disabledHolders: Set<Principal.ID>
}

extension RequestService {
    /// Assignments matching `filter`; without the read-all right, only the actor's own (and those of
    /// the groups the actor is in).
    public func listAssignments(
        _ filter: AssignmentFilter, by actor: ActorContext, after position: ListPosition?, limit: Int
    ) async throws -> AssignmentPage {
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
        let (items, disabled) = try await engine.store.transaction { tx in
            (try await tx.assignments(query, limit: limit + 1, after: position), try await tx.disabledPrincipals())
        }
        let page = engine.page(items, limit: limit, position: ListPosition.init)
        return AssignmentPage(
            items: page.items, next: page.next,
            disabledHolders: disabled.intersection(page.items.map(\.principalId)))
    }

    /// Requests: `mine` (filed by the actor), `awaitingMe` (the actor may decide their current stage
    /// now; the nearest deadline first), or all of them for those who may read everything.
    public func listRequests(
        status: Request.Status?, mine: Bool, awaitingMe: Bool, by actor: ActorContext, after position: ListPosition?,
        limit: Int
    ) async throws -> Page<Request> {
        let now = engine.clock.now()
        if awaitingMe {
            let waiting = try await engine.store.transaction { tx -> [(request: Request, position: ListPosition)] in
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
                .map { (request: $0, position: Self.deadlinePosition($0)) }
                .sorted { Self.precedes($0.position, $1.position) }
            }
            let after =
                position.map { position in waiting.drop { !Self.precedes(position, $0.position) } } ?? waiting[...]
            return engine.page(Array(after.prefix(limit + 1)), limit: limit, position: \.position).map(\.request)
        }
        if !mine { try await engine.authorize(actor, .readEverything) }
        let requester = mine ? actor.principalId : nil
        let items = try await engine.store.transaction {
            try await $0.requests(status: status, requester: requester, limit: limit + 1, after: position)
        }
        return engine.page(items, limit: limit, position: ListPosition.init)
    }

    /// Requests awaiting a decision are listed by deadline, ties by id.
    private static func deadlinePosition(_ request: Request) -> ListPosition {
        ListPosition(value: (request.approval?.deadline ?? .distantFuture).milliseconds, key: request.id.description)
    }

    private static func precedes(_ a: ListPosition, _ b: ListPosition) -> Bool {
        (a.value ?? 0, a.key) < (b.value ?? 0, b.key)
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

extension RequestService {
    /// A request as `actor` may see it: its requester, its beneficiary, anyone who may decide a stage
    /// of it, or an administrator. Anyone else is told it does not exist, so ids cannot be probed.
    public func request(_ id: Request.ID, visibleTo actor: ActorContext) async throws -> Request {
        let now = engine.clock.now()
        return try await engine.store.transaction { tx in
            guard let request = try await tx.request(id: id) else {
                throw RegentError(.notFound, "no such request", field: "requestId")
            }
            if request.requesterId == actor.principalId || request.principalId == actor.principalId { return request }
            let identities = try await tx.membershipGraph().identities(of: actor.principalId)
            let approvers = request.approval?.stages.flatMap { $0.approvers + ($0.escalation?.approvers ?? []) } ?? []
            if !identities.isDisjoint(with: approvers) { return request }
            if try await engine.permissions(of: actor.principalId, in: tx, now: now).contains(.readEverything) {
                return request
            }
            throw RegentError(.notFound, "no such request", field: "requestId")
        }
    }
}
