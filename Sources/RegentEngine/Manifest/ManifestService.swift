import Foundation
public import RegentCore
import RegentStore

/// Policy as code: the live configuration a manifest describes — local groups, roles, their own
/// policies, eligible assignments, and the names they are known by — read in one transaction,
/// so a plan compares the manifest with one consistent state.
public struct ManifestService: Sendable {
    let engine: Engine
}

extension Engine {
    public var manifests: ManifestService { ManifestService(engine: self) }
}

/// What a manifest can describe, as it is live, with every id's name.
public struct ManifestSnapshot: Sendable {
    public struct Group: Sendable {
        public var group: Principal
        public var members: [Principal.ID]
    }

    public struct RolePolicy: Sendable {
        public var role: Role
        public var scope: Scope
        public var policy: Policy
    }

    /// Groups made in Regent; groups an identity provider keeps belong to it, not to a manifest.
    public var groups: [Group] = []
    /// Users and services made in Regent (not by the directory or a first sign-in).
    public var localPrincipals: [Principal] = []
    /// Every role but the built-in ones.
    public var roles: [Role] = []
    public var policies: [RolePolicy] = []
    /// Eligible assignments that are scheduled or active, of every role (built-in ones too).
    public var eligibilities: [Assignment] = []
    public var principals: [Principal.ID: Principal] = [:]
    public var targets: [Target.ID: Target] = [:]
    /// The names of each target's secrets (their values stay sealed).
    public var secretNames: [Target.ID: [String]] = [:]
    public var rolesById: [Role.ID: Role] = [:]
    /// Every alert rule's settings, filled with the rule's defaults.
    public var alertSettings: [AlertRule: AlertSettings] = [:]
    /// Access reviews (a review's name is how a manifest knows it).
    public var reviews: [ReviewDefinition] = []
    /// The objects an apply created or took over: the only ones `--prune` deletes.
    public var managed: Set<ManifestObject.Key> = []
}

extension ManifestService {
    /// The live configuration, for administrators and security readers (`plan`, `export`).
    public func snapshot(by actor: ActorContext) async throws -> ManifestSnapshot {
        let now = engine.clock.now()
        return try await engine.store.transaction(.read) { tx in
            try await engine.authorize(actor.principalId, .readEverything, in: tx, now: now)
            return try await snapshot(in: tx)
        }
    }

    func snapshot(in tx: StoreTransaction) async throws -> ManifestSnapshot {
        var snapshot = ManifestSnapshot()
        snapshot.managed = try await tx.managedObjects()
        snapshot.principals = Dictionary(
            uniqueKeysWithValues: try await Self.everyPage {
                try await tx.principals(limit: 1000, after: $0)
            } mapping: {
                ListPosition($0)
            }.map { ($0.id, $0) })
        let roles = try await Self.everyPage {
            try await tx.roles(limit: 1000, after: $0)
        } mapping: {
            ListPosition($0)
        }
        snapshot.rolesById = Dictionary(uniqueKeysWithValues: roles.map { ($0.id, $0) })
        snapshot.roles = roles.filter { !$0.isBuiltIn }
        snapshot.targets = Dictionary(
            uniqueKeysWithValues: try await Self.everyPage {
                try await tx.targets(limit: 1000, after: $0)
            } mapping: {
                ListPosition($0)
            }.map { ($0.id, $0) })
        for id in snapshot.targets.keys {
            guard let sealed = try await tx.sealedTargetSecrets(id) else { continue }
            snapshot.secretNames[id] = try JSONDecoder().decode(
                [String: String].self, from: try engine.secrets.open(sealed)
            ).keys.sorted()
        }
        for role in snapshot.roles {
            for (scope, policy) in try await tx.policies(role: role.id) {
                snapshot.policies.append(ManifestSnapshot.RolePolicy(role: role, scope: scope, policy: policy))
            }
        }
        snapshot.reviews = try await tx.reviewDefinitions()
        let stored = try await tx.alertSettings()
        for rule in AlertRule.allCases {
            snapshot.alertSettings[rule] = (stored[rule] ?? .defaults(for: rule)).filled(for: rule)
        }
        let graph = try await tx.membershipGraph()
        let provided = try await tx.providedPrincipalIDs()
        for principal in snapshot.principals.values.sorted(by: { $0.name < $1.name })
        where !provided.contains(principal.id) {
            if principal.kind == .group {
                snapshot.groups.append(
                    ManifestSnapshot.Group(group: principal, members: Array(graph.members[principal.id] ?? [])))
            } else {
                snapshot.localPrincipals.append(principal)
            }
        }
        snapshot.eligibilities = try await Self.everyPage(limit: 10_000) {
            try await tx.assignments(
                AssignmentFilter(kind: .eligible, states: AssignmentFilter.live), limit: 10_000, after: $0)
        } mapping: {
            ListPosition($0)
        }
        return snapshot
    }

    /// Every item of a paged store listing, `limit` at a time.
    private static func everyPage<Item>(
        limit: Int = 1000, _ page: (ListPosition?) async throws -> [Item], mapping position: (Item) -> ListPosition
    ) async throws -> [Item] {
        var items: [Item] = []
        var after: ListPosition?
        while true {
            let next = try await page(after)
            items += next
            guard let last = next.last, next.count >= limit else { return items }
            after = position(last)
        }
    }
}
