public import Foundation

/// A SCIM client's bearer token as stored: its secret only as a hash.
public struct SCIMTokenRecord: Sendable, Equatable {
    public var id: String
    public var name: String
    public var createdBy: Principal.ID
    public var createdAt: Date
    public var revokedAt: Date?

    public init(id: String, name: String, createdBy: Principal.ID, createdAt: Date, revokedAt: Date? = nil) {
        self.id = id
        self.name = name
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}
