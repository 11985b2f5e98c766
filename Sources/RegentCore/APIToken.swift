public import Foundation

/// What an API token may do.
public enum TokenAccess: String, Hashable, Sendable, CaseIterable {
    case full
    /// Checks, role tokens and "who am I" only: enough for an app, useless to an attacker.
    case check
}

/// An API token as its owner sees it: never its secret or the hash that stands for it.
public struct APIToken: Hashable, Sendable {
    public var id: String
    public var name: String
    public var access: TokenAccess
    public var createdAt: Date
    public var expiresAt: Date
    public var revokedAt: Date?

    public init(id: String, name: String, access: TokenAccess, createdAt: Date, expiresAt: Date, revokedAt: Date?) {
        self.id = id
        self.name = name
        self.access = access
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
    }
}
