import Crypto
import Foundation
import RegentAPI
public import RegentCore
public import RegentEngine

/// The live configuration as manifest objects, in the canonical form ``ManifestDocuments`` reads a
/// manifest into, so exporting the live state and planning the export shows no changes.
extension ManifestSnapshot {
    public func objects() throws -> [ManifestObject] {
        func name(_ id: Principal.ID) -> String { principals[id]?.name ?? id.description }
        var objects: [ManifestObject] = []
        for target in targets.values {
            objects.append(
                ManifestObject(
                    .target, target.name,
                    fields: [
                        "connector": .string(target.kind.rawValue), "scope": .string(target.scope.description),
                        "config": .object(target.config.mapValues(JSONValue.string)),
                        "secrets": .array((secretNames[target.id] ?? []).map(JSONValue.string)),
                    ]))
        }
        for principal in localPrincipals where principal.kind != .group {
            var fields: [String: JSONValue] = ["displayName": .string(principal.displayName)]
            if let email = principal.email { fields["email"] = .string(email) }
            objects.append(ManifestObject(principal.kind == .user ? .user : .service, principal.name, fields: fields))
        }
        for entry in groups {
            objects.append(
                ManifestObject(
                    .group, entry.group.name,
                    fields: [
                        "displayName": .string(entry.group.displayName),
                        "members": .array(entry.members.map(name).sorted().map(JSONValue.string)),
                    ]))
        }
        for role in roles {
            let entitlements = role.entitlements.map {
                (targets[$0.targetId]?.name ?? $0.targetId.description, $0.value)
            }
            .sorted { $0 < $1 }
            objects.append(
                ManifestObject(
                    .role, role.name,
                    fields: [
                        "description": .string(role.description),
                        "entitlements": .array(
                            entitlements.map { .object(["targetId": .string($0.0), "value": .string($0.1)]) }),
                    ]))
        }
        for entry in policies {
            var fields: [String: JSONValue] = try YAMLJSON.convert(
                Components.Schemas.PolicyBody(entry.policy, approver: name))
            fields["role"] = .string(entry.role.name)
            fields["scope"] = .string(entry.scope.description)
            objects.append(ManifestObject(.policy, "\(entry.role.name) \(entry.scope)", fields: fields))
        }
        for (rule, settings) in alertSettings {
            objects.append(ManifestObject(.alertRule, rule.rawValue, fields: ManifestDocuments.alertFields(settings)))
        }
        var reviewsSeen: Set<String> = []
        for review in reviews where reviewsSeen.insert(review.name).inserted {
            var fields: [String: JSONValue] = try YAMLJSON.convert(
                Components.Schemas.ReviewCreate(
                    review, principal: name, role: { rolesById[$0]?.name ?? $0.description }))
            fields["name"] = nil
            objects.append(ManifestObject(.accessReview, review.name, fields: fields))
        }
        var seen: Set<ManifestObject.Key> = []
        for assignment in eligibilities {
            let principal = name(assignment.principalId)
            let role = rolesById[assignment.roleId]?.name ?? assignment.roleId.description
            var fields: [String: JSONValue] = [
                "principal": .string(principal), "role": .string(role), "scope": .string(assignment.scope.description),
            ]
            if let end = assignment.end { fields["end"] = .string(end.formatted(.iso8601)) }
            let object = ManifestObject(.eligibility, "\(principal) \(role) \(assignment.scope)", fields: fields)
            // Two live eligibilities of one principal for one role and scope are one line of a manifest.
            if seen.insert(object.key).inserted { objects.append(object) }
        }
        return objects
    }

    /// The names a manifest may refer to without declaring them: every role (the built-in ones
    /// too), every target.
    public var knownKeys: Set<ManifestObject.Key> {
        Set(rolesById.values.map { ManifestObject.Key(.role, $0.name) })
            .union(targets.values.map { ManifestObject.Key(.target, $0.name) })
    }

    public var principalNames: Set<String> { Set(principals.values.map(\.name)) }
}

extension ManifestObject {
    /// SHA-256 of the objects' canonical form, hex: what a plan was computed from.
    public static func stateHash(_ objects: [ManifestObject]) -> String {
        SHA256.hash(data: canonical(objects)).map { String(format: "%02x", $0) }.joined()
    }
}
