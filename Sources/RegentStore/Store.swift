/// Regent's storage: everything a use case reads and writes happens inside one transaction, so a
/// state change, its audit events and its jobs commit together or not at all.
public protocol Store: Sendable {
    /// Runs `body` in a transaction of `kind`: committed when it returns, rolled back when it throws.
    func transaction<R: Sendable>(
        _ kind: TransactionKind, _ body: @Sendable (StoreTransaction) async throws -> R
    ) async throws -> R
    /// What other replicas commit, as they commit: the changes to the state kept in memory.
    func changes() -> AsyncStream<StoreChanges>
    /// Whether this replica runs the singletons (reconciler, governance monitor, checkpoints) now:
    /// exactly one replica does at a time.
    var leads: Bool { get }
    /// Whether this replica hears the other replicas' changes now (always, on a database it
    /// alone uses): memory follows them only while it does.
    var hearsChanges: Bool { get }
    /// Whether other replicas may share the database (PostgreSQL), so memory must follow their changes.
    var isShared: Bool { get }
    /// Closes the connections; the store is unusable afterwards.
    func close() async throws
}

extension Store {
    /// A change: reads and writes, serialised with every other change.
    public func transaction<R: Sendable>(_ body: @Sendable (StoreTransaction) async throws -> R) async throws -> R {
        try await transaction(.change, body)
    }
}

/// Storage failures, kept apart from domain refusals so the server can answer 503, not 4xx.
public enum StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    case unavailable(String)
    case corrupt(String)
    case schemaTooNew(found: Int, supported: Int)
    /// `--db` does not name a database Regent can open.
    case invalidLocation(String)

    public var description: String {
        switch self {
        case .unavailable(let reason): "storage unavailable: \(reason)"
        case .corrupt(let reason): "stored data is invalid: \(reason)"
        case .schemaTooNew(let found, let supported):
            "the database has schema version \(found), newer than this build supports (\(supported)); upgrade Regent"
        case .invalidLocation(let reason): "--db: \(reason)"
        }
    }
}
