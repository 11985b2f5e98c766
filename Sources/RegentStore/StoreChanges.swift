public import RegentCore
import Synchronization

/// What a committed transaction changed of the state every replica keeps in memory (the check
/// index, the session cache, the name cache). The store records it as the transaction writes;
/// on PostgreSQL it is published to the other replicas with the commit (`pg_notify` inside the
/// transaction, delivered only if it commits). SQLite has no other replica.
public struct StoreChanges: Sendable, Equatable, Codable {
    public var assignments: Set<Assignment.ID> = []
    /// Principals whose enabled state, name or details changed.
    public var principals: Set<Principal.ID> = []
    /// Group memberships changed: the membership graph must be read again.
    public var memberships = false
    /// Token hashes of sessions and API tokens revoked.
    public var sessions: Set<String> = []
    /// SSH certificates were revoked: the key revocation list must be written again.
    public var sshRevocations = false
    /// Reload everything: too much changed to list, or notifications may have been missed.
    public var everything = false
    /// The replica that committed the change (it has applied it already).
    public var origin: String = ""

    public init() {}

    public static var everythingChanged: StoreChanges {
        var changes = StoreChanges()
        changes.everything = true
        return changes
    }

    public var isEmpty: Bool {
        assignments.isEmpty && principals.isEmpty && !memberships && sessions.isEmpty && !sshRevocations && !everything
    }
}

/// Collects a transaction's ``StoreChanges`` as its statements run.
final class ChangeRecorder: Sendable {
    private let state = Mutex(StoreChanges())

    func record(_ change: (inout StoreChanges) -> Void) { state.withLock { change(&$0) } }
    var changes: StoreChanges { state.withLock { $0 } }
}
