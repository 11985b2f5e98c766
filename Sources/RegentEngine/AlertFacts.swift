import Foundation
import RegentAudit
import RegentCore
import RegentStore

/// What the alert rules look at, read once per evaluation, and each rule's items from it.
struct AlertFacts {
    let now: Date
    let principals: [Principal.ID: Principal]
    let roles: [Role]
    let graph: MembershipGraph
    let live: [Assignment]
    let lastActivations: [Assignment.ID: Date]
    let policies: [Role.ID: [(scope: Scope, policy: Policy)]]
    let failing: [Job]
    let tx: StoreTransaction

    static func read(_ tx: StoreTransaction, now: Date, failingAfter attempts: Int) async throws -> AlertFacts {
        AlertFacts(
            now: now,
            principals: Dictionary(
                try await tx.principals(limit: 1_000_000).map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first }),
            roles: try await tx.roles(limit: 1_000_000), graph: try await tx.membershipGraph(),
            live: try await tx.liveAssignments(), lastActivations: try await tx.lastActivations(),
            policies: try await tx.allPolicies(), failing: try await tx.failingRevocations(attempts: attempts), tx: tx)
    }

    func items(for rule: AlertRule, settings: AlertSettings) async throws -> [AlertItem] {
        let window = settings.window?.timeInterval ?? 0
        return switch rule {
        case .tooManyAdmins: tooManyAdmins(settings)
        case .roleAssignedOutsideRegent: try await outsideRegent(since: now - window)
        case .frequentActivation: try await frequentActivations(settings.count ?? 1, since: now - window, settings)
        case .unusedEligibility: unusedEligibilities(since: now - window, settings)
        case .activationWithoutMfa: activationsWithoutMfa()
        case .permanentActiveAssignment: permanentActive(exempt: Set(settings.names))
        case .revocationFailing: failingRevocations()
        case .breakGlassUsed: try await breakGlassSignIns(Set(settings.names), since: now - window)
        }
    }

    private func name(_ id: Principal.ID) -> String { principals[id]?.name ?? id.description }
    private func roleName(_ id: Role.ID) -> String { roles.first { $0.id == id }?.name ?? id.description }

    /// Enabled users who hold regent-admin in force now, directly or through a group.
    private func tooManyAdmins(_ settings: AlertSettings) -> [AlertItem] {
        guard let admin = roles.first(where: { $0.name == Role.BuiltIn.regentAdmin.rawValue }) else { return [] }
        var holders: Set<Principal.ID> = []
        for assignment in live
        where assignment.roleId == admin.id && assignment.kind == .active && assignment.isInForce(at: now) {
            holders.insert(assignment.principalId)
            holders.formUnion(graph.transitiveMembers(of: assignment.principalId))
        }
        let users = principals.values.filter { $0.kind == .user && $0.isEnabled }
        let admins = holders.filter { principals[$0]?.kind == .user && principals[$0]?.isEnabled == true }
        let share = users.isEmpty ? 0 : admins.count * 100 / users.count
        guard admins.count > (settings.count ?? 0) && share > (settings.percent ?? 0) else { return [] }
        return admins.map {
            AlertItem(
                key: "admin:\($0)",
                summary: "\(name($0)) holds regent-admin (\(admins.count) of \(users.count) users, \(share)%)")
        }
        .sorted { $0.summary < $1.summary }
    }

    private func outsideRegent(since: Date) async throws -> [AlertItem] {
        try await tx.searchAudit(AuditFilter(from: since, action: "grant.outside_regent"), before: nil, limit: 500).map
        {
            AlertItem(
                key: "outside:\($0.seq)",
                summary:
                    "\($0.details["value"] ?? "?") for \($0.details["account"] ?? "?") on \($0.details["target"] ?? "?") at \($0.time.rfc3339)"
            )
        }
    }

    private func frequentActivations(_ count: Int, since: Date, _ settings: AlertSettings) async throws -> [AlertItem] {
        let recent = try await tx.activations(since: since)
        let byPair = Dictionary(grouping: recent) { "\($0.principalId):\($0.roleId)" }
        return byPair.compactMap { key, activations -> AlertItem? in
            guard activations.count >= count, let first = activations.first else { return nil }
            return AlertItem(
                key: "frequent:\(key)",
                summary:
                    "\(name(first.principalId)) activated \(roleName(first.roleId)) \(activations.count) times within \(settings.window?.description ?? "")",
                principalId: first.principalId, roleId: first.roleId)
        }.sorted { $0.key < $1.key }
    }

    private func unusedEligibilities(since: Date, _ settings: AlertSettings) -> [AlertItem] {
        live.filter { $0.kind == .eligible && $0.start <= since && (lastActivations[$0.id] ?? .distantPast) < since }
            .map {
                AlertItem(
                    key: "unused:\($0.id)",
                    summary:
                        "\(name($0.principalId)) has not activated \(roleName($0.roleId)) at \($0.scope.path) within \(settings.window?.description ?? "")",
                    principalId: $0.principalId, roleId: $0.roleId)
            }.sorted { $0.key < $1.key }
    }

    /// Each role at the root and at every scope where it has a policy: the places its effective
    /// policy can differ.
    private func activationsWithoutMfa() -> [AlertItem] {
        roles.flatMap { role -> [AlertItem] in
            let own = policies[role.id] ?? []
            let scopes = Set([Scope.root] + own.map(\.scope)).sorted { $0.path < $1.path }
            return scopes.filter { !EffectivePolicy.resolve(own, at: $0).requireMfa }.map {
                AlertItem(
                    key: "mfa:\(role.id):\($0.path)",
                    summary: "\(role.name) at \($0.path) activates without a fresh MFA",
                    roleId: role.id)
            }
        }
    }

    private func permanentActive(exempt: Set<String>) -> [AlertItem] {
        live.filter { $0.kind == .active && $0.end == nil && !$0.isActivation && !exempt.contains(roleName($0.roleId)) }
            .map {
                AlertItem(
                    key: "permanent:\($0.id)",
                    summary: "\(name($0.principalId)) holds \(roleName($0.roleId)) at \($0.scope.path) permanently",
                    principalId: $0.principalId, roleId: $0.roleId)
            }.sorted { $0.key < $1.key }
    }

    private func failingRevocations() -> [AlertItem] {
        failing.map { job in
            let assignment: String =
                if case .revoke(let id) = job.kind { id.description } else { "?" }
            return AlertItem(
                key: "revoke:\(job.id)",
                summary: "revocation of assignment \(assignment) failed \(job.attempts) times: \(job.lastError ?? "")")
        }
    }

    private func breakGlassSignIns(_ accounts: Set<String>, since: Date) async throws -> [AlertItem] {
        var items: [AlertItem] = []
        for principal in principals.values where accounts.contains(principal.name) {
            for event in try await tx.searchAudit(
                AuditFilter(from: since, actorId: principal.id, action: "auth.login.succeeded"), before: nil, limit: 100
            ) {
                items.append(
                    AlertItem(
                        key: "breakglass:\(event.seq)", summary: "\(principal.name) signed in at \(event.time.rfc3339)",
                        principalId: principal.id))
            }
        }
        return items.sorted { $0.key < $1.key }
    }
}
