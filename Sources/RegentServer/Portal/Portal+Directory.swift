import Hummingbird
import RegentCore
import RegentEngine

/// Principals and groups: create, enable or disable, and group membership. The engine refuses a
/// membership that would form a cycle or remove the last enabled administrator.
extension Portal {
    func registerDirectory(on router: Router<RegentRequestContext>) {
        router.post("/admin/principal") { request, _ in try await createPrincipal(request) }
        router.post("/admin/enable") { request, _ in try await setEnabled(request) }
        router.post("/admin/member/add") { request, _ in try await changeMembership(request, adding: true) }
        router.post("/admin/member/remove") { request, _ in try await changeMembership(request, adding: false) }
    }

    func directoryValues(_ actor: ActorContext, csrf: String) async throws -> [String: Any] {
        let directory = try await Directory(engine: engine, actor: actor)
        let graph = try await engine.directory.membership(by: actor)
        let directoryAdmin = try await engine.permits(actor, .managePrincipals)
        let principals = directory.principals.map {
            [
                "name": $0.name, "displayName": $0.displayName, "kind": $0.kind.rawValue, "enabled": $0.isEnabled,
                "directoryAdmin": directoryAdmin, "csrf": csrf,
            ] as [String: Any]
        }
        let groups = directory.principals.filter { $0.kind == .group }.map { group -> [String: Any] in
            let members = (graph.members[group.id] ?? []).map(directory.principalName).sorted()
            return [
                "name": group.name, "displayName": group.displayName, "empty": members.isEmpty,
                "members": members.map { ["member": $0, "group": group.name, "csrf": csrf] },
            ]
        }
        return [
            "principals": principals, "groups": groups, "anyGroup": !groups.isEmpty, "directoryAdmin": directoryAdmin,
        ]
    }

    private func createPrincipal(_ request: Request) async throws -> Response {
        try await adminAction(request, .directory, done: "created") { fields, actor in
            let kind = Principal.Kind(rawValue: fields["kind"] ?? "") ?? .user
            _ = try await engine.directory.createPrincipal(
                kind: kind, name: fields["name"] ?? "", displayName: fields.text("displayName"),
                email: fields.text("email"), password: kind == .user ? fields.text("password") : nil, by: actor)
        }
    }

    /// Disabling ends the principal's sessions and checks at once (the engine's rule).
    private func setEnabled(_ request: Request) async throws -> Response {
        try await adminAction(request, .directory, done: "updated") { fields, actor in
            let principal = try await engine.directory.principal(named: fields["principal"] ?? "", by: actor)
            _ = try await engine.directory.updatePrincipal(
                principal.id, .init(isEnabled: fields["enabled"] == "true"), by: actor)
        }
    }

    private func changeMembership(_ request: Request, adding: Bool) async throws -> Response {
        try await adminAction(request, .directory, done: "updated") { fields, actor in
            let group = try await engine.directory.principal(named: fields["group"] ?? "", by: actor)
            let member = try await engine.directory.principal(named: fields["member"] ?? "", by: actor)
            if adding {
                try await engine.directory.addMember(member.id, to: group.id, by: actor)
            } else {
                try await engine.directory.removeMember(member.id, from: group.id, by: actor)
            }
        }
    }
}
