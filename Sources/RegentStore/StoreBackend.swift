import SQLKit

/// What a transaction does, so each database gives it only the locking it needs.
public enum TransactionKind: Sendable {
    /// Reads and changes Regent's state (and appends to the audit chain): one change at a time
    /// across every replica, each seeing everything committed before it — the guarantee every
    /// rule that reads before it writes (limits, the last administrator, the chain head) relies on.
    case change
    /// Reads only. On PostgreSQL it never waits for a change (a snapshot of its own); on both
    /// databases a write inside it is refused, so a mislabelled transaction fails in tests.
    case read
    /// Claims rows of a queue. Claims are serialised among themselves, so each sees the leases
    /// taken before it, but never wait for changes: rows a change is writing are passed over
    /// (`FOR UPDATE SKIP LOCKED` on PostgreSQL).
    case claim
}

/// The one seam between the two databases: how a transaction starts and ends, how locked rows are
/// skipped, what a driver's failure means, and how changes reach other replicas. Everything else
/// is the same SQL through SQLKit.
protocol StoreBackend: Sendable {
    var dialect: StoreDialect { get }
    /// Who this process is in the leases it takes and the changes it publishes.
    var replica: String { get }
    /// Runs `body` inside a transaction of `kind` on a connection of its own for its duration.
    func transaction<R: Sendable>(
        _ kind: TransactionKind, _ body: @Sendable (any SQLDatabase, ChangeRecorder) async throws -> R
    ) async throws -> R
    /// Runs `body` in a transaction no other replica runs at the same time (migrations).
    func exclusively<R: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> R) async throws -> R
    /// Changes committed by other replicas, as they commit.
    func changes() -> AsyncStream<StoreChanges>
    /// Whether this replica holds the singletons' lock now.
    var leads: Bool { get }
    /// Whether this replica hears the other replicas' changes now (always, with none).
    var hearsChanges: Bool { get }
    func close() async throws
}

/// The few SQL spellings that differ.
enum StoreDialect: Sendable {
    case sqlite, postgresql

    /// Appended to a queue's claiming SELECT: on PostgreSQL rows another replica is claiming are
    /// passed over instead of waited for; SQLite has one writer and no row locks.
    var skipLocked: String {
        switch self {
        case .sqlite: ""
        case .postgresql: " FOR UPDATE SKIP LOCKED"
        }
    }
}
