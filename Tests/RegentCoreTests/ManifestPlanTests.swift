import RegentCore
import Testing

/// The pure plan: live state × manifest → the changes, in an order that never names what is not
/// there, with renames as a delete and a create, and unmanaged objects never touched.
struct ManifestPlanTests {
    typealias Key = ManifestObject.Key

    static let target = ManifestObject(.target, "orders-db", fields: ["kind": .string("postgres"), "scope": "/prod"])
    static let role = ManifestObject(
        .role, "dba",
        fields: [
            "description": "Database administrators",
            "entitlements": .array([.object(["targetId": "orders-db", "value": "pg_write_all_data"])]),
        ])
    static let policy = ManifestObject(
        .policy, "dba /prod",
        fields: [
            "role": "dba", "scope": "/prod",
            "activation": .object(["maximumDuration": "PT1H", "requireMfa": .bool(true)]),
        ])
    static let eligibility = ManifestObject(
        .eligibility, "alice dba /prod", fields: ["principal": "alice", "role": "dba", "scope": "/prod"])
    static let all = [eligibility, policy, role, target]

    @Test func anEmptyLiveStateCreatesEverythingNamedBeforeWhatNamesIt() {
        let changes = ManifestPlan.changes(live: [], desired: Self.all, managed: [], prune: false)
        #expect(changes.map(\.action) == [.create, .create, .create, .create])
        #expect(changes.map(\.key.kind) == [.target, .role, .policy, .eligibility])
        #expect(
            changes[2].fields == [
                .init(path: "activation.maximumDuration", before: nil, after: "PT1H"),
                .init(path: "activation.requireMfa", before: nil, after: .bool(true)),
                .init(path: "role", before: nil, after: "dba"),
                .init(path: "scope", before: nil, after: "/prod"),
            ])
    }

    @Test func theSameStateIsNoChange() {
        #expect(
            ManifestPlan.changes(live: Self.all, desired: Self.all, managed: Set(Self.all.map(\.key)), prune: true)
                .isEmpty)
    }

    @Test func anEditIsAnUpdateListingOnlyTheFieldsThatDiffer() {
        var edited = Self.policy
        edited.fields["activation"] = .object([
            "maximumDuration": "PT2H", "requireMfa": .bool(true), "requireTicket": .bool(true),
        ])
        let changes = ManifestPlan.changes(
            live: Self.all, desired: [Self.target, Self.role, edited, Self.eligibility], managed: [], prune: false)
        #expect(
            changes == [
                ManifestChange(
                    .update, Self.policy.key,
                    fields: [
                        .init(path: "activation.maximumDuration", before: "PT1H", after: "PT2H"),
                        .init(path: "activation.requireTicket", before: nil, after: .bool(true)),
                    ])
            ])
    }

    @Test func aListIsComparedWhole() {
        var edited = Self.role
        edited.fields["entitlements"] = .array([.object(["targetId": "orders-db", "value": "pg_read_all_data"])])
        let changes = ManifestPlan.changes(live: [Self.role], desired: [edited], managed: [], prune: false)
        #expect(changes.map(\.fields.count) == [1])
        #expect(changes.first?.fields.first?.path == "entitlements")
    }

    @Test func aRenameIsADeleteAndACreateWhenPruning() {
        var renamed = Self.role
        renamed.key = Key(.role, "database-admin")
        let managed = Set(Self.all.map(\.key))
        let changes = ManifestPlan.changes(
            live: [Self.target, Self.role], desired: [Self.target, renamed], managed: managed, prune: true)
        #expect(changes.map(\.action) == [.create, .delete])
        #expect(changes.map(\.key) == [renamed.key, Self.role.key])
        // Without pruning the old one stays.
        let kept = ManifestPlan.changes(
            live: [Self.target, Self.role], desired: [Self.target, renamed], managed: managed, prune: false)
        #expect(kept.map(\.action) == [.create])
    }

    @Test func deletesComeAfterCreatesAndDependentsFirst() {
        let changes = ManifestPlan.changes(live: Self.all, desired: [], managed: Set(Self.all.map(\.key)), prune: true)
        #expect(changes.map(\.action) == [.delete, .delete, .delete, .delete])
        #expect(changes.map(\.key.kind) == [.eligibility, .policy, .role, .target])
        #expect(changes[0].fields.map(\.path) == ["principal", "role", "scope"])
        #expect(changes[0].fields.allSatisfy { $0.after == nil })
    }

    @Test func unmanagedObjectsAreNeverDeleted() {
        let changes = ManifestPlan.changes(live: Self.all, desired: [], managed: [Self.eligibility.key], prune: true)
        #expect(
            changes == [
                ManifestChange(
                    .delete, Self.eligibility.key,
                    fields: ManifestPlan.changes(
                        live: [Self.eligibility], desired: [], managed: [Self.eligibility.key], prune: true)[0].fields)
            ])
    }

    @Test func theCanonicalFormIgnoresOrder() {
        #expect(ManifestObject.canonical(Self.all) == ManifestObject.canonical(Self.all.reversed()))
        var edited = Self.target
        edited.fields["scope"] = "/dev"
        #expect(
            ManifestObject.canonical(Self.all)
                != ManifestObject.canonical([edited, Self.role, Self.policy, Self.eligibility]))
    }
}
