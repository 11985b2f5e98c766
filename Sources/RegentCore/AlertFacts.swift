public import Foundation

/// A revocation past its attempt limit, still being retried: what the `revocationFailing` alert
/// and the operators' list show.
public struct FailingRevocation: Hashable, Sendable {
    public var jobId: UUID
    public var assignmentId: Assignment.ID
    public var attempts: Int
    public var nextAttempt: Date
    public var lastError: String?

    public init(jobId: UUID, assignmentId: Assignment.ID, attempts: Int, nextAttempt: Date, lastError: String?) {
        self.jobId = jobId
        self.assignmentId = assignmentId
        self.attempts = attempts
        self.nextAttempt = nextAttempt
        self.lastError = lastError
    }
}

/// An audited event an alert rule looks at (a grant found outside Regent, a sign-in).
public struct AlertEvent: Hashable, Sendable {
    public var seq: Int64
    public var time: Date
    public var actorId: Principal.ID?
    public var details: [String: String]

    public init(seq: Int64, time: Date, actorId: Principal.ID?, details: [String: String] = [:]) {
        self.seq = seq
        self.time = time
        self.actorId = actorId
        self.details = details
    }
}

/// Everything the alert rules look at, read by the engine in one transaction before any rule
/// runs; the rules themselves are pure functions of it and the time.
///
/// The engine may read less than the whole store, never less than a rule could report: `live`
/// at least every live assignment of regent-admin, every permanent active assignment that is not
/// an activation, and every eligibility not activated within the unused-eligibility window;
/// `principals` at least everyone those, the events and the activations name (and the members of
/// the groups among them). Each rule still checks its whole condition here.
public struct AlertFacts: Sendable {
    public var now: Date
    public var principals: [Principal.ID: Principal]
    /// How many enabled users there are, for the share of them who hold regent-admin.
    public var enabledUsers: Int
    public var roles: [Role]
    public var graph: MembershipGraph
    public var live: [Assignment]
    public var lastActivations: [Assignment.ID: Date]
    public var policies: [Role.ID: [(scope: Scope, policy: Policy)]]
    public var failing: [FailingRevocation]
    /// `grant.outside_regent` events within the rule's window.
    public var outsideGrants: [AlertEvent]
    /// Activations started within the `frequentActivation` window.
    public var recentActivations: [Assignment]
    /// Successful sign-ins within the `breakGlassUsed` window.
    public var signIns: [AlertEvent]

    public init(
        now: Date, principals: [Principal.ID: Principal], enabledUsers: Int, roles: [Role], graph: MembershipGraph,
        live: [Assignment],
        lastActivations: [Assignment.ID: Date], policies: [Role.ID: [(scope: Scope, policy: Policy)]],
        failing: [FailingRevocation], outsideGrants: [AlertEvent], recentActivations: [Assignment],
        signIns: [AlertEvent]
    ) {
        self.now = now
        self.principals = principals
        self.enabledUsers = enabledUsers
        self.roles = roles
        self.graph = graph
        self.live = live
        self.lastActivations = lastActivations
        self.policies = policies
        self.failing = failing
        self.outsideGrants = outsideGrants
        self.recentActivations = recentActivations
        self.signIns = signIns
    }

    /// Every rule evaluated against the alerts as they stand: each alert that changed is saved;
    /// each change is audited, and one raised or reopened is told to Regent's administrators.
    public func evaluate(settings: [AlertRule: AlertSettings], existing: [AlertRule: Alert]) -> [Effect] {
        var effects: [Effect] = []
        for rule in AlertRule.allCases {
            let ruleSettings = settings[rule] ?? .defaults(for: rule)
            let found = ruleSettings.enabled ? items(for: rule, settings: ruleSettings) : []
            let (alert, change) = Alert.evaluate(existing[rule], rule: rule, items: found, at: now)
            guard let alert, alert != existing[rule] else { continue }
            effects.append(.saveAlert(alert))
            guard let change else { continue }
            effects.append(
                .audit(
                    AuditNote(
                        change.auditAction,
                        details: [
                            "rule": rule.rawValue, "items": "\(found.count)", "first": found.first?.summary ?? "",
                        ]
                    )))
            if change != .resolved { effects.append(.notify(.alertRaised(rule))) }
        }
        return effects
    }

    /// What one rule finds now; empty when its condition does not hold.
    public func items(for rule: AlertRule, settings: AlertSettings) -> [AlertItem] {
        let since = now - (settings.window?.timeInterval ?? 0)
        return switch rule {
        case .tooManyAdmins: tooManyAdmins(settings)
        case .roleAssignedOutsideRegent: outsideRegent(since: since)
        case .frequentActivation: frequentActivations(settings.count ?? 1, since: since, settings)
        case .unusedEligibility: unusedEligibilities(since: since, settings)
        case .activationWithoutMfa: activationsWithoutMfa()
        case .permanentActiveAssignment: permanentActive(exempt: Set(settings.names))
        case .revocationFailing: failingRevocations()
        case .breakGlassUsed: breakGlassSignIns(Set(settings.names), since: since)
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
        let admins = holders.filter { principals[$0]?.kind == .user && principals[$0]?.isEnabled == true }
        let share = enabledUsers == 0 ? 0 : admins.count * 100 / enabledUsers
        guard admins.count > (settings.count ?? 0) && share > (settings.percent ?? 0) else { return [] }
        return admins.map {
            AlertItem(
                key: "admin:\($0)",
                summary: "\(name($0)) holds regent-admin (\(admins.count) of \(enabledUsers) users, \(share)%)")
        }
        .sorted { $0.summary < $1.summary }
    }

    private func outsideRegent(since: Date) -> [AlertItem] {
        outsideGrants.filter { $0.time >= since }.sorted { $0.seq > $1.seq }.map {
            AlertItem(
                key: "outside:\($0.seq)",
                summary:
                    "\($0.details["value"] ?? "?") for \($0.details["account"] ?? "?") on \($0.details["target"] ?? "?") at \($0.time.rfc3339)"
            )
        }
    }

    private func frequentActivations(_ count: Int, since: Date, _ settings: AlertSettings) -> [AlertItem] {
        let recent = recentActivations.filter { $0.start >= since }
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
        failing.map {
            AlertItem(
                key: "revoke:\($0.jobId)",
                summary:
                    "revocation of assignment \($0.assignmentId) failed \($0.attempts) times: \($0.lastError ?? "")")
        }
    }

    private func breakGlassSignIns(_ accounts: Set<String>, since: Date) -> [AlertItem] {
        signIns.filter { event in
            event.time >= since && event.actorId.flatMap { principals[$0] }.map { accounts.contains($0.name) } == true
        }.compactMap { event in
            guard let id = event.actorId, let principal = principals[id] else { return nil }
            return AlertItem(
                key: "breakglass:\(event.seq)", summary: "\(principal.name) signed in at \(event.time.rfc3339)",
                principalId: principal.id)
        }.sorted { $0.key < $1.key }
    }
}
