public import Foundation

/// The revoked SSH certificates of Regent's user CA that are not yet past their end: what its
/// key revocation list says.
public struct SSHRevocations: Sendable, Equatable {
    /// Revoked serials, ascending.
    public var serials: [UInt64]
    /// When the newest of them was revoked: the list's version and time, the same on every replica.
    public var latest: Date?

    /// The time the list is versioned by: the newest revocation, or the epoch while none.
    public var version: Date { latest ?? Date(timeIntervalSince1970: 0) }

    public init(serials: [UInt64], latest: Date?) {
        self.serials = serials
        self.latest = latest
    }
}
