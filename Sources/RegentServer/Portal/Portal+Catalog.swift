import Foundation
import Hummingbird
import RegentCore
import RegentEngine

/// Roles with their entitlements, Regent's own roles, and targets. Entitlements are written one
/// per line as `TARGET VALUE`; target settings and secrets as `NAME=VALUE` lines. Secrets are
/// write-only: the page shows their names, never a value.
extension Portal {
    func registerCatalog(on router: Router<RegentRequestContext>) {
        router.post("/admin/role") { request, _ in try await saveRole(request) }
        router.post("/admin/target") { request, _ in try await saveTarget(request) }
    }

    func roleValues(_ actor: ActorContext, csrf: String) async throws -> [String: Any] {
        let directory = try await Directory(engine: engine, actor: actor)
        let targets = try await engine.provisioning.listTargets(by: actor, after: nil, limit: 5000).items
        let targetNames = Dictionary(targets.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
        let holders = try await engine.requests.listAssignments(
            AssignmentFilter(kind: .active, states: AssignmentFilter.live), by: actor, after: nil, limit: 5000
        ).items
        let roles = directory.roles.map { role -> [String: Any] in
            [
                "name": role.name, "description": role.description, "builtIn": role.isBuiltIn, "csrf": csrf,
                "entitlements": role.entitlements.map {
                    "\(targetNames[$0.targetId] ?? $0.targetId.description) \($0.value)"
                }
                .joined(separator: "\n"),
            ]
        }
        let builtIns = Role.BuiltIn.allCases.map { builtIn -> [String: Any] in
            let role = directory.roles.first { $0.name == builtIn.rawValue }
            return [
                "name": builtIn.rawValue, "summary": builtIn.summary,
                "rights": builtIn.permissions.map(\.rawValue).sorted().joined(separator: ", "),
                "holders": holders.filter { $0.roleId == role?.id }.map { directory.principalName($0.principalId) }
                    .joined(separator: ", "),
            ]
        }
        return [
            "roles": roles.filter { $0["builtIn"] as? Bool != true }, "builtIns": builtIns,
            "targets": targets.map { ["name": $0.name] },
        ]
    }

    func targetValues(_ actor: ActorContext) async throws -> [String: Any] {
        var targets: [[String: Any]] = []
        for target in try await engine.provisioning.listTargets(by: actor, after: nil, limit: 5000).items {
            targets.append([
                "name": target.name, "kind": target.kind.rawValue, "scope": target.scope.path,
                "config": target.config.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(
                    separator: "\n"),
                "secrets": try await engine.provisioning.secretNames(of: target.id).joined(separator: ", "),
            ])
        }
        return ["targets": targets, "kinds": Target.Kind.allCases.map(\.rawValue)]
    }

    /// Creates the role, or changes an existing one's description and entitlements.
    private func saveRole(_ request: Request) async throws -> Response {
        try await adminAction(request, .roles, done: "saved") { fields, actor in
            let name = fields["name"] ?? ""
            let description = fields["description"] ?? ""
            let targets = try await engine.provisioning.listTargets(by: actor, after: nil, limit: 5000).items
            var entitlements: [Entitlement] = []
            for line in (fields["entitlements"] ?? "").split(whereSeparator: \.isNewline) {
                let parts = line.trimmingCharacters(in: .whitespaces).split(separator: " ", maxSplits: 1)
                guard parts.count == 2 else {
                    throw RegentError.invalid(
                        "entitlements", "write each entitlement as TARGET VALUE, e.g. orders-db orders_admin")
                }
                guard let target = targets.first(where: { $0.name == parts[0] }) else {
                    throw RegentError(.notFound, "no target named \(parts[0])", field: "entitlements")
                }
                entitlements.append(Entitlement(targetId: target.id, value: String(parts[1])))
            }
            if fields["existing"] == "true" {
                let role = try await engine.directory.role(named: name)
                _ = try await engine.directory.updateRole(
                    role.id, description: description, entitlements: entitlements, by: actor)
            } else {
                _ = try await engine.directory.createRole(
                    name: name, description: description, entitlements: entitlements, by: actor)
            }
        }
    }

    /// Creates a target, or changes an existing one's scope and settings (and its secrets when
    /// any are given: they replace the old ones).
    private func saveTarget(_ request: Request) async throws -> Response {
        try await adminAction(request, .targets, done: "saved") { fields, actor in
            let config = try Self.settings(fields["config"] ?? "", field: "config")
            let secrets = try Self.settings(fields["secrets"] ?? "", field: "secrets")
            let scope = try Scope(parsing: fields.text("scope") ?? "/")
            if fields["existing"] == "true" {
                let target = try await engine.provisioning.listTargets(by: actor, after: nil, limit: 5000).items.first {
                    $0.name == fields["name"]
                }
                guard let target else { throw RegentError(.notFound, "no such target", field: "name") }
                _ = try await engine.provisioning.updateTarget(
                    target.id, scope: scope, config: config, secrets: secrets.isEmpty ? nil : secrets, by: actor)
            } else {
                guard let kind = Target.Kind(rawValue: fields["kind"] ?? "") else {
                    throw RegentError.invalid("kind", "choose a connector kind")
                }
                _ = try await engine.provisioning.createTarget(
                    kind: kind, name: fields["name"] ?? "", scope: scope, config: config, secrets: secrets, by: actor)
            }
        }
    }

    /// `NAME=VALUE` lines; blank lines are skipped, a name given twice is refused.
    static func settings(_ text: String, field: String) throws(RegentError) -> [String: String] {
        var settings: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { continue }
            let parts = trimmed.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty else {
                throw .invalid(field, "write one NAME=VALUE per line")
            }
            guard settings.updateValue(parts[1], forKey: parts[0]) == nil else {
                throw .invalid(field, "\(parts[0]) is given twice")
            }
        }
        return settings
    }
}
