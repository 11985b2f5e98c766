public import Foundation

/// A named privilege and what it means on each target (a PostgreSQL role, SSH principals, a sudo
/// rule, a webhook payload key).
public struct Role: Identifiable, Hashable, Sendable, Codable {
    public typealias ID = Identifier<Role>

    /// Regent's own administrative roles; they are managed by Regent like any other role, so
    /// Regent's admin rights can themselves be eligible and just in time.
    public enum BuiltIn: String, Sendable, CaseIterable {
        case regentAdmin = "regent-admin"
        case privilegedRoleAdmin = "privileged-role-admin"
        case securityReader = "security-reader"
        case auditor = "auditor"

        public var summary: String {
            switch self {
            case .regentAdmin: "Everything in Regent"
            case .privilegedRoleAdmin: "Roles, policies, targets and assignments"
            case .securityReader: "Read everything, including audit and alerts"
            case .auditor: "Audit search, export and verification"
            }
        }
    }

    public let id: ID
    public var name: String
    public var description: String
    public var entitlements: [Entitlement]
    public var isBuiltIn: Bool
    public let createdAt: Date

    public init(
        id: ID, name: String, description: String = "", entitlements: [Entitlement] = [], isBuiltIn: Bool = false,
        createdAt: Date
    ) throws(RegentError) {
        guard description.count <= 2000 else {
            throw .invalid("description", "a description is at most 2000 characters")
        }
        guard entitlements.count <= 100 else { throw .invalid("entitlements", "a role has at most 100 entitlements") }
        for entitlement in entitlements {
            guard (1...512).contains(entitlement.value.count), !entitlement.value.contains(where: \.isNewline) else {
                throw .invalid("entitlements.value", "an entitlement value is 1–512 characters on one line")
            }
        }
        self.id = id
        self.name = try Principal.validatedName(name)
        self.description = description
        self.entitlements = entitlements
        self.isBuiltIn = isBuiltIn
        self.createdAt = createdAt
    }
}

/// What a role grants on one target; `value` is read by that target's connector.
public struct Entitlement: Hashable, Sendable, Codable {
    public var targetId: Target.ID
    public var value: String

    public init(targetId: Target.ID, value: String) {
        self.targetId = targetId
        self.value = value
    }
}

/// A system Regent provisions (a connector instance), bound to a scope.
public struct Target: Identifiable, Hashable, Sendable, Codable {
    public typealias ID = Identifier<Target>

    public enum Kind: String, Sendable, Codable, CaseIterable {
        case postgres, ssh, sudo, ldap, webhook
    }

    public let id: ID
    public var kind: Kind
    public var name: String
    public var scope: Scope
    /// Non-secret connector settings; secrets are stored apart and never returned.
    public var config: [String: String]

    public init(id: ID, kind: Kind, name: String, scope: Scope, config: [String: String] = [:]) throws(RegentError) {
        guard config.count <= 50, config.allSatisfy({ (1...128).contains($0.key.count) && $0.value.count <= 2048 })
        else {
            throw .invalid(
                "config", "a target has at most 50 settings, names of 1–128 and values of at most 2048 characters")
        }
        self.id = id
        self.kind = kind
        self.name = try Principal.validatedName(name)
        self.scope = scope
        self.config = config
    }
}
