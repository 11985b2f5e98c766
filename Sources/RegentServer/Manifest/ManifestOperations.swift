import Foundation
import RegentAPI
import RegentCore
import RegentEngine

/// A plan's changes as the operations the engine carries out. What this version cannot do through
/// a manifest yet — deleting a target, group, user, service, role or review (they keep history),
/// changing a group's or user's display name or email, a target's connector, an eligibility's end
/// or a review's settings — refuses the whole apply by name, so nothing is half done.
enum ManifestOperations {
    static func make(
        _ changes: [ManifestChange], desired: [ManifestObject.Key: ManifestObject],
        live: [ManifestObject.Key: ManifestObject], snapshot: ManifestSnapshot,
        secrets: [String: [String: String]], createdBy: Principal.ID, now: Date
    ) async throws -> [ManifestOperation] {
        let principalIds = Dictionary(
            snapshot.principals.values.map { ($0.name, $0.id) }, uniquingKeysWith: { first, _ in first })
        // Groups this apply creates get their ids now, so a policy can name them as approvers.
        // (A user or service it creates cannot approve in the same apply: they get ids as made.)
        var newGroups: [String: Principal.ID] = [:]
        for change in changes where change.action == .create && change.key.kind == .group {
            newGroups[change.key.name] = Principal.ID(UUID())
        }
        func approver(_ name: String) throws -> Principal.ID {
            guard let id = principalIds[name] ?? newGroups[name] else {
                throw RegentError(.notFound, "no principal named \(name)", field: "approvers")
            }
            return id
        }
        var operations: [ManifestOperation] = []
        for change in changes {
            let key = change.key
            if change.action == .delete {
                let object = live[key]?.fields
                // An alert rule always exists: pruned, it takes its defaults again.
                if key.kind == .alertRule, let rule = AlertRule(rawValue: key.name) {
                    operations.append(.setAlertRule(rule, .defaults(for: rule)))
                    continue
                }
                if key.kind == .policy {
                    operations.append(
                        .removePolicy(
                            role: object?["role"]?.string ?? "",
                            scope: try Scope(parsing: object?["scope"]?.string ?? "")))
                    continue
                }
                guard key.kind == .eligibility else { throw unsupported("deleting a \(key.kind.rawValue)", key) }
                operations.append(
                    .removeEligibility(
                        principal: object?["principal"]?.string ?? "", role: object?["role"]?.string ?? "",
                        scope: try Scope(parsing: object?["scope"]?.string ?? "")))
                continue
            }
            guard let object = desired[key] else { continue }
            let fields = object.fields
            switch key.kind {
            case .target:
                let config = (fields["config"]?.object ?? [:]).compactMapValues(\.string)
                let scope = try Scope(parsing: fields["scope"]?.string ?? "")
                let names = fields["secrets"]?.strings ?? []
                // Secret values are written when a target is made, or when the names change (all of
                // them then); a plan cannot see a value, so nothing else rewrites one.
                let writesSecrets = change.action == .create || change.fields.contains { $0.path == "secrets" }
                var values: [String: String]?
                if writesSecrets {
                    values = [:]
                    for name in names {
                        guard let value = secrets[key.name]?[name] else {
                            throw RegentError(
                                .invalidArgument,
                                "\(key): the secret \(name) needs a reference (env:NAME or file:PATH) to be written",
                                field: "secrets")
                        }
                        values?[name] = value
                    }
                }
                if change.action == .create {
                    guard let kind = Target.Kind(rawValue: fields["connector"]?.string ?? "") else { continue }
                    operations.append(
                        .createTarget(kind: kind, name: key.name, scope: scope, config: config, secrets: values ?? [:]))
                } else {
                    guard !change.fields.contains(where: { $0.path == "connector" }) else {
                        throw unsupported("changing a target's connector", key)
                    }
                    operations.append(.updateTarget(name: key.name, scope: scope, config: config, secrets: values))
                }
            case .group:
                let members = fields["members"]?.strings ?? []
                if change.action == .create {
                    operations.append(
                        .createGroup(
                            id: newGroups[key.name] ?? Principal.ID(UUID()), name: key.name,
                            displayName: fields["displayName"]?.string, members: members))
                } else {
                    guard change.fields.allSatisfy({ $0.path == "members" }) else {
                        throw unsupported("changing a group's display name", key)
                    }
                    operations.append(.setGroupMembers(group: key.name, members: members))
                }
            case .user, .service:
                guard change.action == .create else {
                    throw unsupported("changing a \(key.kind.rawValue)'s display name or email", key)
                }
                operations.append(
                    .createPrincipal(
                        kind: key.kind == .user ? .user : .service, name: key.name,
                        displayName: fields["displayName"]?.string, email: fields["email"]?.string))
            case .role:
                let entitlements = (fields["entitlements"]?.array ?? []).map {
                    (target: $0.object?["targetId"]?.string ?? "", value: $0.object?["value"]?.string ?? "")
                }
                let description = fields["description"]?.string ?? ""
                operations.append(
                    change.action == .create
                        ? .createRole(name: key.name, description: description, entitlements: entitlements)
                        : .updateRole(name: key.name, description: description, entitlements: entitlements))
            case .policy:
                var rules = fields
                rules["role"] = nil
                rules["scope"] = nil
                let body = try YAMLJSON.convert(JSONValue.object(rules), to: Components.Schemas.PolicyBody.self)
                let policy = try await Policy(body) { try approver($0) }
                operations.append(
                    .setPolicy(
                        role: fields["role"]?.string ?? "", scope: try Scope(parsing: fields["scope"]?.string ?? ""),
                        policy: policy))
            case .alertRule:
                guard let rule = AlertRule(rawValue: key.name) else { continue }
                operations.append(
                    .setAlertRule(
                        rule,
                        AlertSettings(
                            enabled: fields["enabled"] == .bool(true), count: fields["count"]?.number.map { Int($0) },
                            percent: fields["percent"]?.number.map { Int($0) },
                            window: try fields["window"]?.string.map { try ISODuration(parsing: $0, field: "window") },
                            names: fields["names"]?.strings ?? [])))
            case .accessReview:
                guard change.action == .create else { throw unsupported("changing an access review", key) }
                var fields = fields
                fields["name"] = .string(key.name)
                let body = try YAMLJSON.convert(JSONValue.object(fields), to: Components.Schemas.ReviewCreate.self)
                let (createdBy, now) = (createdBy, now)
                operations.append(
                    .createReview { principal, role in
                        try await ReviewDefinition(
                            body, id: ReviewDefinition.ID(UUID()), createdBy: createdBy, now: now,
                            principal: principal, role: role)
                    })
            case .eligibility:
                guard change.action == .create else { throw unsupported("changing an eligibility's end", key) }
                operations.append(
                    .assignEligible(
                        principal: fields["principal"]?.string ?? "", role: fields["role"]?.string ?? "",
                        scope: try Scope(parsing: fields["scope"]?.string ?? ""),
                        end: try fields["end"]?.string.map { try Date($0, strategy: .iso8601) }))
            default:
                throw unsupported("a \(key.kind.rawValue)", key)
            }
        }
        return operations
    }

    private static func unsupported(_ what: String, _ key: ManifestObject.Key) -> RegentError {
        RegentError(
            .invalidArgument, "\(key): \(what) through a manifest is not supported yet; do it through the API",
            field: "documents")
    }
}
