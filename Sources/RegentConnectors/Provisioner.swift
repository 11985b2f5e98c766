public import Foundation
public import RegentCore

/// One entitlement to put in place (or take away) for one principal on one target.
public struct GrantSpec: Hashable, Sendable {
    public var target: Target
    /// The connector-specific value from the role's entitlement (a PostgreSQL role, SSH principals…).
    public var value: String
    /// The principal's account on the target (`config.accountTemplate`, default its name).
    public var account: String
    /// nil: found on the target with no assignment explaining it (the reconciler revokes it).
    public var assignmentId: Assignment.ID?
    /// Carried to the target so its own logs tie back to the activation.
    public var requestId: Request.ID?
    /// When the access must end, for targets that can enforce it themselves.
    public var until: Date?
    /// The target's secrets, opened for this call only.
    public var secrets: TargetSecrets

    public init(
        target: Target, value: String, account: String, assignmentId: Assignment.ID?, requestId: Request.ID?,
        until: Date?, secrets: TargetSecrets = TargetSecrets([:])
    ) {
        self.target = target
        self.value = value
        self.account = account
        self.assignmentId = assignmentId
        self.requestId = requestId
        self.until = until
        self.secrets = secrets
    }

    /// Maps a principal name to its account on `target`: `config.accountTemplate` with `{name}`.
    public static func account(for name: String, on target: Target) -> String {
        (target.config["accountTemplate"] ?? "{name}").replacingOccurrences(of: "{name}", with: name)
    }
}

/// A target's opened secrets. Printing, dumping or logging one shows only the names, so a
/// secret cannot leak through string interpolation of a spec or an error.
public struct TargetSecrets: Hashable, Sendable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    private let values: [String: String]

    public init(_ values: [String: String]) { self.values = values }

    public subscript(name: String) -> String? { values[name] }

    public var description: String { "secrets(\(values.keys.sorted().joined(separator: ", ")))" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: [:]) }
}

/// What a target has now, for reconciliation.
public struct ObservedGrant: Hashable, Sendable {
    public var value: String
    public var account: String

    public init(value: String, account: String) {
        self.value = value
        self.account = account
    }
}

/// A credential a grant made for the requester (a short-lived database login): shown to them
/// once, then only its existence is kept.
public struct IssuedCredential: Sendable, Equatable, CustomStringConvertible {
    public var login: String
    public var secret: String
    public var validUntil: Date?

    public init(login: String, secret: String, validUntil: Date?) {
        self.login = login
        self.secret = secret
        self.validUntil = validUntil
    }

    public var description: String { "credential(\(login))" }
}

/// Grants and revokes one entitlement for one principal on one kind of target. Both are
/// idempotent (keyed by assignment): a job that runs twice after a crash changes nothing twice.
public protocol Provisioner: Sendable {
    var kind: Target.Kind { get }
    /// Returns a credential when the grant made one for the requester (nil otherwise).
    func grant(_ spec: GrantSpec) async throws(ExternalFailure) -> IssuedCredential?
    func revoke(_ spec: GrantSpec) async throws(ExternalFailure)
    /// Whether one account's grant of a value is shared by all its assignments (so an end revokes
    /// only what no other assignment still covers), or each assignment has its own.
    func sharesGrants(on target: Target) -> Bool
    /// What the target has now among `values` (the entitlement values Regent manages on it), so
    /// the reconciler can revoke what no assignment explains and grant again what is missing; nil
    /// when the target cannot be asked (a webhook, certificates that expire by themselves).
    func observe(_ target: Target, secrets: TargetSecrets, values: Set<String>) async throws(ExternalFailure)
        -> [ObservedGrant]?
}

extension Provisioner {
    public func sharesGrants(on target: Target) -> Bool { true }
}

/// The connectors this deployment has, by target kind.
public struct ProvisionerRegistry: Sendable {
    private var provisioners: [Target.Kind: any Provisioner] = [:]

    public init(_ provisioners: [any Provisioner] = []) {
        for provisioner in provisioners { register(provisioner) }
    }

    /// Adds `provisioner`, replacing the one of its kind.
    public mutating func register(_ provisioner: any Provisioner) { provisioners[provisioner.kind] = provisioner }

    public func provisioner(for kind: Target.Kind) -> (any Provisioner)? { provisioners[kind] }
}
