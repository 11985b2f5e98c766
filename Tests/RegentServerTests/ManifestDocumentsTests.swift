import RegentCore
import RegentServer
import Testing

/// A manifest's documents checked as the API checks the same bodies, every problem named by
/// file:document:field, and written in one canonical form.
struct ManifestDocumentsTests {
    static func document(_ kind: String, _ fields: [String: JSONValue]) -> JSONValue {
        .object(fields.merging(["apiVersion": "regent/v1", "kind": .string(kind)]) { $1 })
    }

    static func read(_ documents: [JSONValue]) async throws(ManifestProblems) -> [ManifestObject] {
        try await ManifestDocuments.objects(
            documents.enumerated().map { (ManifestSource(file: "access.yaml", document: $0 + 1), $1) }
        ).map(\.object)
    }

    static func problems(_ documents: [JSONValue]) async -> [String] {
        do {
            _ = try await read(documents)
            return []
        } catch {
            return error.problems.map(\.description)
        }
    }

    static let policy = document(
        "Policy",
        [
            "role": "dba", "scope": "/prod",
            "activation": .object([
                "maximumDuration": "PT60M", "requireMfa": .bool(true),
                "approval": .object(["stages": .array([.object(["approvers": .array(["security", "bob"])])])]),
            ]),
        ])

    @Test func everyKindIsReadIntoItsCanonicalForm() async throws {
        let objects = try await Self.read([
            Self.document("Group", ["name": "security", "members": .array(["carol", "bob", "carol"])]),
            Self.document(
                "Role",
                [
                    "name": "dba",
                    "entitlements": .array([
                        .object(["targetId": "orders", "value": "w"]), .object(["targetId": "billing", "value": "r"]),
                    ]),
                ]),
            Self.policy,
            Self.document(
                "Eligibility",
                ["principal": "alice", "role": "dba", "scope": "/prod", "end": "2027-01-31T18:00:00+01:00"]),
        ])
        #expect(
            objects.map(\.key.description) == [
                "Group security", "Role dba", "Policy dba /prod", "Eligibility alice dba /prod",
            ])
        #expect(objects[0].fields["members"] == .array(["bob", "carol"]))
        #expect(objects[1].fields["entitlements"]?.array?.first?.object?["targetId"] == "billing")
        let activation = objects[2].fields["activation"]?.object
        #expect(activation?["maximumDuration"] == "PT1H")
        #expect(
            activation?["approval"]?.object?["stages"]?.array?.first?.object?["approvers"]
                == .array(["security", "bob"]))
        #expect(objects[3].fields["end"] == "2027-01-31T17:00:00Z")
    }

    @Test func eachProblemIsNamedByFileDocumentAndField() async {
        let found = await Self.problems([
            Self.document("Role", ["name": "dba", "colour": "red"]),
            Self.document("Gadget", ["name": "x"]),
            .object(["kind": "Role", "name": "ops"]),
            Self.document(
                "Policy", ["role": "dba", "scope": "/", "activation": .object(["maximumDuration": "PT90H"])]),
            Self.document("Policy", ["role": "dba", "scope": "no-slash"]),
            Self.document("Eligibility", ["principal": "alice", "role": "dba", "scope": "/", "end": "tomorrow"]),
            Self.document("Group", ["name": "ops"]),
            Self.document("Policy", ["role": "dba", "scope": "/", "activation": .object(["requireMfa": "yes"])]),
            Self.document("Group", ["name": "ops"]),
        ])
        #expect(found.count == 8)
        #expect(found[0].hasPrefix("access.yaml:1:colour: unknown field"))
        #expect(found[1].hasPrefix("access.yaml:2:kind: unknown kind 'Gadget'"))
        #expect(found[2] == "access.yaml:3:apiVersion: must be regent/v1")
        #expect(found[3].hasPrefix("access.yaml:4:activation.maximumDuration:"))
        #expect(found[4].hasPrefix("access.yaml:5:scope:"))
        #expect(found[5].hasPrefix("access.yaml:6:end: an RFC 3339 time"))
        #expect(found[6] == "access.yaml:8:activation.requireMfa: must be true or false")
        #expect(found[7] == "access.yaml:9:name: Group ops is also declared at access.yaml:7")
    }

    @Test func referencesToWhatNeitherTheManifestNorTheLiveStateHasAreNamed() async throws {
        let objects = try await ManifestDocuments.objects([
            (ManifestSource(file: "a.yaml", document: 1), Self.policy),
            (
                ManifestSource(file: "a.yaml", document: 2),
                Self.document(
                    "Role", ["name": "ops", "entitlements": .array([.object(["targetId": "gone", "value": "x"])])])
            ),
        ])
        // Offline, a target (registered through the API) is not checked; a role is.
        let offline = ManifestDocuments.missingReferences(objects, known: [], principals: nil)
        #expect(offline.map(\.description) == ["a.yaml:1:role: no role named dba"])
        let live = ManifestDocuments.missingReferences(
            objects, known: [ManifestObject.Key(.role, "dba")], principals: ["bob"])
        #expect(
            live.map(\.description) == [
                "a.yaml:1:activation.approval.stages[0].approvers: no principal named security",
                "a.yaml:2:entitlements[0].targetId: no target named gone",
            ])
    }

    @Test func aTargetsSecretsAreReferencesNeverValues() async throws {
        let referenced = try await Self.read([
            Self.document(
                "Target",
                [
                    "name": "orders", "connector": "postgres", "scope": "/prod",
                    "config": .object(["dsn": "postgres://regent@db/orders"]),
                    "secrets": .object(["password": "env:ORDERS_PASSWORD", "ca": "file:ca.pem"]),
                ])
        ])
        #expect(referenced.first?.fields["secrets"] == .array(["ca", "password"]))
        let listed = try await Self.read([
            Self.document(
                "Target",
                ["name": "orders", "connector": "postgres", "scope": "/prod", "secrets": .array(["password"])])
        ])
        #expect(listed.first?.fields["secrets"] == .array(["password"]))
        let inline = await Self.problems([
            Self.document(
                "Target",
                ["name": "orders", "connector": "postgres", "scope": "/", "secrets": .object(["password": "hunter2"])])
        ])
        #expect(inline.count == 1)
        #expect(inline.first?.hasPrefix("access.yaml:1:secrets.password: a secret is given by reference") == true)
        #expect(inline.first?.contains("hunter2") == false)
    }
}
