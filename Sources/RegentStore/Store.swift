/// Regent's storage: everything a use case reads and writes happens inside one transaction, so a
/// state change, its audit events and its jobs commit together or not at all.
public protocol Store: Sendable {
    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    func transaction<R: Sendable>(_ body: @Sendable (StoreTransaction) async throws -> R) async throws -> R
    /// Closes the connections; the store is unusable afterwards.
    func close() async throws
}

/// Storage failures, kept apart from domain refusals so the server can answer 503, not 4xx.
public enum StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    case unavailable(String)
    case corrupt(String)
    case schemaTooNew(found: Int, supported: Int)

    public var description: String {
        switch self {
        case .unavailable(let reason): "storage unavailable: \(reason)"
        case .corrupt(let reason): "stored data is invalid: \(reason)"
        case .schemaTooNew(let found, let supported):
            "the database has schema version \(found), newer than this build supports (\(supported)); upgrade Regent"
        }
    }
}
