public import Foundation
public import RegentCore

/// One entitlement to put in place (or take away) for one principal on one target.
public struct GrantSpec: Hashable, Sendable {
    public var target: Target
    /// The connector-specific value from the role's entitlement (a PostgreSQL role, SSH principals…).
    public var value: String
    /// The principal's account on the target (`config.accountTemplate`, default its name).
    public var account: String
    public var assignmentId: Assignment.ID
    /// Carried to the target so its own logs tie back to the activation.
    public var requestId: Request.ID?
    /// When the access must end, for targets that can enforce it themselves.
    public var until: Date?

    public init(
        target: Target, value: String, account: String, assignmentId: Assignment.ID, requestId: Request.ID?,
        until: Date?
    ) {
        self.target = target
        self.value = value
        self.account = account
        self.assignmentId = assignmentId
        self.requestId = requestId
        self.until = until
    }

    /// Maps a principal name to its account on `target`: `config.accountTemplate` with `{name}`.
    public static func account(for name: String, on target: Target) -> String {
        (target.config["accountTemplate"] ?? "{name}").replacingOccurrences(of: "{name}", with: name)
    }
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

/// A connector failure. Transient ones are retried with backoff; permanent ones raise an alert.
public struct ProvisionError: Error, Equatable, Sendable, CustomStringConvertible {
    public var isTransient: Bool
    public var reason: String

    public init(transient: Bool, _ reason: String) {
        self.isTransient = transient
        self.reason = reason
    }

    public var description: String { (isTransient ? "transient: " : "permanent: ") + reason }
}

/// Grants and revokes one entitlement for one principal on one kind of target. Both are
/// idempotent (keyed by assignment): a job that runs twice after a crash changes nothing twice.
public protocol Provisioner: Sendable {
    var kind: Target.Kind { get }
    func grant(_ spec: GrantSpec) async throws(ProvisionError)
    func revoke(_ spec: GrantSpec) async throws(ProvisionError)
    func observe(_ target: Target) async throws(ProvisionError) -> [ObservedGrant]
}

/// The connectors this deployment has, by target kind.
public struct ProvisionerRegistry: Sendable {
    private var provisioners: [Target.Kind: any Provisioner] = [:]

    public init(_ provisioners: [any Provisioner] = []) {
        for provisioner in provisioners { self.provisioners[provisioner.kind] = provisioner }
    }

    public func provisioner(for kind: Target.Kind) -> (any Provisioner)? { provisioners[kind] }
}
