public import Foundation
import RegentAPI
public import RegentCore

/// A manifest's documents (`apiVersion: regent/v1`, a `kind`, the API's field names, names
/// instead of ids) read into the objects a plan compares. Each document is checked as the API
/// checks the same body — decoded strictly by the generated types, so an unknown field is refused,
/// and held to the domain's own rules (names, scopes, durations, every policy rule) — and written
/// back in one canonical form, so a manifest and the live state it was exported from are equal.
/// The same code checks a manifest offline (`regent validate`) and on the server (`plan`, `apply`).
public enum ManifestDocuments {
    public static let apiVersion = "regent/v1"
    /// The kinds this version reads; the others are refused by name.
    public static let supportedKinds: [ManifestKind] = [
        .target, .group, .service, .user, .role, .policy, .eligibility, .accessReview, .alertRule,
    ]
    /// How a target's secret is given: by reference, resolved by the CLI, never written inline.
    public static let secretReferencePrefixes = ["env:", "file:"]

    /// The objects the documents describe, or every problem they have.
    public static func objects(_ documents: [(source: ManifestSource, document: JSONValue)])
        async throws(ManifestProblems)
        -> [(source: ManifestSource, object: ManifestObject)]
    {
        var objects: [(source: ManifestSource, object: ManifestObject)] = []
        var problems: [ManifestProblem] = []
        var seen: [ManifestObject.Key: ManifestSource] = [:]
        for (source, document) in documents {
            do {
                let object = try await object(document, at: source)
                if let first = seen[object.key] {
                    problems.append(
                        ManifestProblem(source, field: "name", "\(object.key) is also declared at \(first)"))
                    continue
                }
                seen[object.key] = source
                objects.append((source, object))
            } catch let problem as ManifestProblem {
                problems.append(problem)
            } catch let error as RegentError {
                problems.append(ManifestProblem(source, field: error.field, error.reason))
            } catch {
                problems.append(ManifestProblem(source, field: nil, "\(error)"))
            }
        }
        guard problems.isEmpty else { throw ManifestProblems(problems) }
        return objects
    }

    /// What the objects name that is neither among them nor in `known` (the live state's keys).
    /// `principals` are the names of the directory's principals, or nil offline, where only the
    /// roles are checked (against the manifest and the built-in ones): not a principal the
    /// identity provider keeps, nor a target registered through the API.
    public static func missingReferences(
        _ objects: [(source: ManifestSource, object: ManifestObject)], known: Set<ManifestObject.Key>,
        principals: Set<String>?
    ) -> [ManifestProblem] {
        let declared = known.union(objects.map(\.object.key))
        let groups = objects.filter { [.group, .user, .service].contains($0.object.key.kind) }.map(\.object.key.name)
        var problems: [ManifestProblem] = []
        for (source, object) in objects {
            for reference in references(of: object) {
                let exists: Bool
                if reference.kind == .user {
                    exists = principals.map { $0.contains(reference.name) || groups.contains(reference.name) } ?? true
                } else if principals == nil && reference.kind == .target {
                    exists = true  // offline, a target registered through the API is not known
                } else if principals == nil && Role.BuiltIn(rawValue: reference.name) != nil {
                    exists = true
                } else {
                    exists = declared.contains(ManifestObject.Key(reference.kind, reference.name))
                }
                if !exists {
                    let what = reference.kind == .user ? "principal" : reference.kind.rawValue.lowercased()
                    problems.append(
                        ManifestProblem(source, field: reference.field, "no \(what) named \(reference.name)"))
                }
            }
        }
        return problems
    }

    /// An alert rule's settings as a document's fields.
    static func alertFields(_ settings: AlertSettings) -> [String: JSONValue] {
        var fields: [String: JSONValue] = [
            "enabled": .bool(settings.enabled), "names": .array(settings.names.sorted().map(JSONValue.string)),
        ]
        if let count = settings.count { fields["count"] = .number(Double(count)) }
        if let percent = settings.percent { fields["percent"] = .number(Double(percent)) }
        if let window = settings.window { fields["window"] = .string(window.description) }
        return fields
    }

    /// The document that states `object`: what `regent export` writes, read back as the same object.
    public static func document(for object: ManifestObject) -> JSONValue {
        var fields = object.fields
        fields["apiVersion"] = .string(apiVersion)
        fields["kind"] = .string(object.key.kind.rawValue)
        // Policies and eligibilities are named by what they are about; the others by name.
        if ![.policy, .eligibility].contains(object.key.kind) { fields["name"] = .string(object.key.name) }
        return .object(fields)
    }

    /// Every secret reference a manifest's Target documents make, by target name.
    public static func secretReferences(_ documents: [(source: ManifestSource, document: JSONValue)]) throws
        -> [(source: ManifestSource, target: String, secret: String, reference: String)]
    {
        var found: [(source: ManifestSource, target: String, secret: String, reference: String)] = []
        for (source, document) in documents {
            guard let fields = document.object, fields["kind"]?.string == ManifestKind.target.rawValue,
                let target = fields["name"]?.string
            else { continue }
            for (secret, reference) in try DocumentReader(source: source, fields: fields).secretReferences() {
                if let reference { found.append((source, target, secret, reference)) }
            }
        }
        return found
    }

    /// An object another one names: a target, a role, or (as `.user`) any principal.
    struct Reference {
        var kind: ManifestKind
        var name: String
        var field: String
    }

    static func references(of object: ManifestObject) -> [Reference] {
        let fields = object.fields
        switch object.key.kind {
        case .group:
            return (fields["members"]?.strings ?? []).map { Reference(kind: .user, name: $0, field: "members") }
        case .role:
            return (fields["entitlements"]?.array ?? []).enumerated().compactMap { index, entitlement in
                entitlement.object?["targetId"]?.string.map {
                    Reference(kind: .target, name: $0, field: "entitlements[\(index)].targetId")
                }
            }
        case .policy:
            var found = [Reference(kind: .role, name: fields["role"]?.string ?? "", field: "role")]
            let stages = fields["activation"]?.object?["approval"]?.object?["stages"]?.array ?? []
            for (index, stage) in stages.enumerated() {
                let field = "activation.approval.stages[\(index)]"
                found += (stage.object?["approvers"]?.strings ?? []).map {
                    Reference(kind: .user, name: $0, field: "\(field).approvers")
                }
                found += (stage.object?["escalation"]?.object?["approvers"]?.strings ?? []).map {
                    Reference(kind: .user, name: $0, field: "\(field).escalation.approvers")
                }
            }
            return found
        case .accessReview:
            let reviewers = fields["reviewers"]?.object
            return (fields["roles"]?.strings ?? []).map { Reference(kind: .role, name: $0, field: "roles") }
                + ((reviewers?["principals"]?.strings ?? []) + (reviewers?["fallback"]?.strings ?? [])).map {
                    Reference(kind: .user, name: $0, field: "reviewers")
                }
        case .eligibility:
            return [
                Reference(kind: .user, name: fields["principal"]?.string ?? "", field: "principal"),
                Reference(kind: .role, name: fields["role"]?.string ?? "", field: "role"),
            ]
        default:
            return []
        }
    }

    static func object(_ document: JSONValue, at source: ManifestSource) async throws -> ManifestObject {
        guard case .object(var fields) = document else {
            throw ManifestProblem(source, field: nil, "a document is a mapping of fields")
        }
        guard fields.removeValue(forKey: "apiVersion") == .string(apiVersion) else {
            throw ManifestProblem(source, field: "apiVersion", "must be \(apiVersion)")
        }
        let kindName = fields.removeValue(forKey: "kind")?.string ?? ""
        guard let kind = ManifestKind(rawValue: kindName), supportedKinds.contains(kind) else {
            throw ManifestProblem(
                source, field: "kind",
                "unknown kind '\(kindName)'; one of \(supportedKinds.map(\.rawValue).joined(separator: ", "))")
        }
        let reader = DocumentReader(source: source, fields: fields)
        switch kind {
        case .target: return try reader.target()
        case .group: return try reader.group()
        case .user, .service: return try reader.principal(kind)
        case .role: return try reader.role()
        case .policy: return try await reader.policy()
        case .accessReview: return try await reader.accessReview()
        case .alertRule: return try reader.alertRule()
        default: return try reader.eligibility()
        }
    }
}

/// One document's fields, read for its kind; every refusal names the field.
struct DocumentReader {
    let source: ManifestSource
    let fields: [String: JSONValue]

    func problem(_ field: String?, _ reason: String) -> ManifestProblem {
        ManifestProblem(source, field: field, reason)
    }

    /// Refuses a field the kind does not have, naming it.
    func onlyFields(_ allowed: Set<String>) throws(ManifestProblem) {
        if let unknown = fields.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw problem(unknown, "unknown field; one of \(["apiVersion", "kind"] + allowed.sorted())")
        }
    }

    /// A field's value decoded as the API's generated body type, strictly.
    func decode<Body: Decodable>(_ type: Body.Type, _ value: [String: JSONValue], prefix: String = "") throws
        -> Body
    {
        do {
            return try YAMLJSON.convert(JSONValue.object(value), to: Body.self)
        } catch let error as DecodingError {
            throw Self.explain(error, prefix: prefix, source: source)
        }
    }

    /// A domain refusal (which names its own field) as a problem in this document.
    func domain<R>(_ body: () throws -> R) throws -> R {
        do { return try body() } catch let error as RegentError { throw problem(error.field, error.reason) }
    }

    func string(_ name: String) throws(ManifestProblem) -> String {
        guard let value = fields[name]?.string else { throw problem(name, "required, a string") }
        return value
    }

    func name(_ field: String = "name") throws -> String {
        let value = try string(field)
        return try domain { try Principal.validatedName(value, field: field) }
    }

    func scope() throws -> String {
        let value = try string("scope")
        return try domain { try Scope(parsing: value).description }
    }

    /// The connector is `connector` (the API's `kind`, which a document uses for its own kind).
    /// Secrets by name, each a reference (`env:NAME`, `file:PATH`) the CLI resolves on apply; or
    /// a list of names (as `regent export` writes them), which keeps the stored values.
    func target() throws -> ManifestObject {
        try onlyFields(["name", "connector", "scope", "config", "secrets"])
        let name = try name()
        let kindName = try string("connector")
        guard let kind = Target.Kind(rawValue: kindName) else {
            throw problem("connector", "one of \(Target.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let scope = try scope()
        var config: [String: String] = [:]
        for (key, value) in fields["config"]?.object ?? [:] {
            guard let text = value.string else { throw problem("config.\(key)", "must be a string") }
            config[key] = text
        }
        if fields["config"] != nil && fields["config"]?.object == nil {
            throw problem("config", "a mapping of settings")
        }
        _ = try domain {
            try Target(id: Target.ID(UUID()), kind: kind, name: name, scope: try Scope(parsing: scope), config: config)
        }
        let secrets = try secretReferences().keys.sorted()
        return ManifestObject(
            .target, name,
            fields: [
                "connector": .string(kind.rawValue), "scope": .string(scope),
                "config": .object(config.mapValues(JSONValue.string)), "secrets": .array(secrets.map(JSONValue.string)),
            ])
    }

    /// Each secret's reference, nil where only its name is given.
    func secretReferences() throws -> [String: String?] {
        switch fields["secrets"] {
        case nil: return [:]
        case .array(let names)?:
            var found: [String: String?] = [:]
            for name in names {
                guard let name = name.string else { throw problem("secrets", "a list of names or a mapping") }
                found[name] = .some(nil)
            }
            return found
        case .object(let references)?:
            var found: [String: String?] = [:]
            for (name, reference) in references {
                guard let text = reference.string,
                    ManifestDocuments.secretReferencePrefixes.contains(where: { text.hasPrefix($0) })
                else {
                    throw problem(
                        "secrets.\(name)",
                        "a secret is given by reference (env:NAME or file:PATH), never written in the manifest")
                }
                found[name] = text
            }
            return found
        default:
            throw problem("secrets", "a list of names or a mapping of names to references")
        }
    }

    /// A user or a service made in Regent, for installs without SCIM: no password (a user signs in
    /// through the organisation's provider, or an administrator sets one).
    func principal(_ kind: ManifestKind) throws -> ManifestObject {
        try onlyFields(kind == .user ? ["name", "displayName", "email"] : ["name", "displayName"])
        var body = fields
        body["kind"] = .string(kind == .user ? "user" : "service")
        let created = try decode(Components.Schemas.PrincipalCreate.self, body)
        let name = try name()
        _ = try domain {
            try Principal(
                id: Principal.ID(UUID()), kind: kind == .user ? .user : .service, name: name,
                displayName: created.displayName, email: created.email, createdAt: Date())
        }
        var canonical: [String: JSONValue] = ["displayName": .string(created.displayName ?? name)]
        if let email = created.email { canonical["email"] = .string(email) }
        return ManifestObject(kind, name, fields: canonical)
    }

    func group() throws -> ManifestObject {
        try onlyFields(["name", "displayName", "members"])
        var body = fields
        body["kind"] = "group"
        let group = try decode(Components.Schemas.PrincipalCreate.self, body)
        let name = try name()
        var canonical: [String: JSONValue] = [:]
        canonical["displayName"] = .string(group.displayName ?? name)
        let members = try domain {
            try (group.members ?? []).map { try Principal.validatedName($0, field: "members") }
        }
        canonical["members"] = .array(Set(members).sorted().map(JSONValue.string))
        return ManifestObject(.group, name, fields: canonical)
    }

    func role() throws -> ManifestObject {
        try onlyFields(["name", "description", "entitlements"])
        let body = try decode(Components.Schemas.RoleCreate.self, fields)
        let name = try name()
        let entitlements = body.entitlements ?? []
        _ = try domain {
            try Role(
                id: Role.ID(UUID()), name: name, description: body.description ?? "",
                entitlements: entitlements.map { Entitlement(targetId: Target.ID(UUID()), value: $0.value) },
                createdAt: Date())
        }
        let sorted = entitlements.map { ($0.targetId, $0.value) }.sorted { $0 < $1 }
        return ManifestObject(
            .role, name,
            fields: [
                "description": .string(body.description ?? ""),
                "entitlements": .array(sorted.map { .object(["targetId": .string($0.0), "value": .string($0.1)]) }),
            ])
    }

    func policy() async throws -> ManifestObject {
        let ruleFields: Set<String> = ["activation", "eligibleAssignment", "activeAssignment", "notifications"]
        try onlyFields(ruleFields.union(["role", "scope"]))
        let role = try name("role")
        let scope = try scope()
        let body = try decode(Components.Schemas.PolicyBody.self, fields.filter { ruleFields.contains($0.key) })
        // Approvers are checked by name against the directory later; here each name stands for an id.
        let approvers = StandInIds()
        let policy = try await Policy(body) { name in try approvers.principal(name) }
        try domain { try policy.validate() }
        var canonical: [String: JSONValue] = try YAMLJSON.convert(
            Components.Schemas.PolicyBody(policy) { approvers.name($0) })
        canonical["role"] = .string(role)
        canonical["scope"] = .string(scope)
        return ManifestObject(.policy, "\(role) \(scope)", fields: canonical)
    }

    /// An access review, known by its name; its `start` is required, so the document says the
    /// same thing whenever it is applied.
    func accessReview() async throws -> ManifestObject {
        let body = try decode(Components.Schemas.ReviewCreate.self, fields)
        guard body.start != nil else { throw problem("start", "required: when the first occurrence opens (RFC 3339)") }
        let names = StandInIds()
        let definition = try await ReviewDefinition(
            body, id: ReviewDefinition.ID(UUID()), createdBy: Principal.ID(UUID()), now: Date(),
            principal: { try names.principal($0) }, role: { try names.role($0) })
        var canonical: [String: JSONValue] = try YAMLJSON.convert(
            Components.Schemas.ReviewCreate(definition, principal: names.name, role: names.name))
        canonical["name"] = nil
        return ManifestObject(.accessReview, body.name, fields: canonical)
    }

    /// An alert rule's settings, named by the rule; what a document leaves out takes the rule's default.
    func alertRule() throws -> ManifestObject {
        let ruleName = try string("name")
        guard let rule = AlertRule(rawValue: ruleName) else {
            throw problem("name", "one of \(AlertRule.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let body = try decode(Components.Schemas.AlertSettingsBody.self, fields.filter { $0.key != "name" })
        let settings = AlertSettings(
            enabled: body.enabled, count: body.count, percent: body.percent,
            window: try domain { try body.window.map { try ISODuration(parsing: $0, field: "window") } },
            names: body.names ?? []
        ).filled(for: rule)
        try domain { try settings.validate(for: rule) }
        return ManifestObject(.alertRule, rule.rawValue, fields: ManifestDocuments.alertFields(settings))
    }

    func eligibility() throws -> ManifestObject {
        try onlyFields(["principal", "role", "scope", "end"])
        let principal = try name("principal")
        let role = try name("role")
        let scope = try scope()
        var canonical: [String: JSONValue] = [
            "principal": .string(principal), "role": .string(role), "scope": .string(scope),
        ]
        if fields["end"] != nil {
            let text = try string("end")
            guard let end = try? Date(text, strategy: .iso8601) else {
                throw problem("end", "an RFC 3339 time, such as 2027-01-31T18:00:00Z")
            }
            canonical["end"] = .string(end.formatted(.iso8601))
        }
        return ManifestObject(.eligibility, "\(principal) \(role) \(scope)", fields: canonical)
    }

    /// A decoding failure as the field it is about (`activation.approval.stages[0].timeout`).
    static func explain(_ error: DecodingError, prefix: String, source: ManifestSource) -> ManifestProblem {
        func path(_ codingPath: [any CodingKey]) -> String {
            let path = codingPath.reduce(prefix) { path, key in
                if let index = key.intValue { return "\(path)[\(index)]" }
                return path.isEmpty ? key.stringValue : "\(path).\(key.stringValue)"
            }
            return path
        }
        switch error {
        case .keyNotFound(let key, let context):
            return ManifestProblem(source, field: path(context.codingPath + [key]), "required")
        case .typeMismatch(let type, let context):
            return ManifestProblem(source, field: path(context.codingPath), "must be \(Self.describe(type))")
        case .valueNotFound(let type, let context):
            return ManifestProblem(source, field: path(context.codingPath), "must be \(Self.describe(type))")
        case .dataCorrupted(let context):
            return ManifestProblem(source, field: path(context.codingPath), context.debugDescription)
        @unknown default:
            return ManifestProblem(source, field: prefix.isEmpty ? nil : prefix, "\(error)")
        }
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is Int.Type, is Int32.Type, is Int64.Type: "a whole number"
        case is [Any].Type: "a list"
        default: "a \(type)"
        }
    }
}

/// A stand-in id for each principal or role name, and back, while a document is checked without
/// a directory.
private final class StandInIds: @unchecked Sendable {
    private var principals: [String: Principal.ID] = [:]
    private var roles: [String: Role.ID] = [:]
    private var names: [String: String] = [:]

    func principal(_ name: String) throws -> Principal.ID {
        let valid = try Principal.validatedName(name, field: "approvers")
        if let id = principals[valid] { return id }
        let id = Principal.ID(UUID())
        (principals[valid], names[id.description]) = (id, valid)
        return id
    }

    func role(_ name: String) throws -> Role.ID {
        let valid = try Principal.validatedName(name, field: "roles")
        if let id = roles[valid] { return id }
        let id = Role.ID(UUID())
        (roles[valid], names[id.description]) = (id, valid)
        return id
    }

    func name(_ id: Principal.ID) -> String { names[id.description] ?? id.description }
    func name(_ id: Role.ID) -> String { names[id.description] ?? id.description }
}
