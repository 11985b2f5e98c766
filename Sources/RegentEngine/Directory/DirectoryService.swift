/// The directory: principals (users, groups, services), group membership, roles, policies,
/// managers, and name lookups. Every change is an audited, administrator-only action that never
/// leaves Regent without an enabled administrator.
public struct DirectoryService: Sendable {
    let engine: Engine
}

extension Engine {
    public var directory: DirectoryService { DirectoryService(engine: self) }
}
