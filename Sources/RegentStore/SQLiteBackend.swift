import Foundation
import Logging
import RegentCore
import SQLKit
import SQLiteKit

/// SQLite: one connection, one transaction at a time (`BEGIN IMMEDIATE` behind a FIFO lock, since
/// a transaction awaits between its statements), WAL and full sync. A file has one server, so no
/// change ever comes from elsewhere and this replica always leads.
final class SQLiteBackend: StoreBackend {
    private let connection: SQLiteConnection
    private let database: any SQLDatabase
    private let gate = AsyncLock()
    var dialect: StoreDialect { .sqlite }
    var replica: String { "embedded" }

    init(path: String?, logger: Logger) async throws {
        let storage: SQLiteConnection.Storage = path.map { .file(path: $0) } ?? .memory
        do {
            connection = try await SQLiteConnection.open(storage: storage, logger: logger)
        } catch {
            throw StoreError.unavailable("cannot open SQLite database \(path ?? ":memory:"): \(error)")
        }
        database = connection.sql(queryLogLevel: nil)
        do {
            for pragma in [
                "PRAGMA journal_mode = WAL", "PRAGMA synchronous = FULL", "PRAGMA foreign_keys = ON",
                "PRAGMA busy_timeout = 5000",
            ] {
                try await database.raw(SQLQueryString(pragma)).run()
            }
        } catch {
            try? await connection.close()
            throw error
        }
    }

    func transaction<R: Sendable>(
        _ kind: TransactionKind, _ body: @Sendable (any SQLDatabase, ChangeRecorder) async throws -> R
    ) async throws -> R {
        try await gate.withLock {
            let database = self.database
            // A read runs with writes refused (`query_only`), set before and cleared after it.
            let begin = kind == .read ? ["PRAGMA query_only = ON", "BEGIN"] : ["BEGIN IMMEDIATE"]
            let afterEnd = kind == .read ? ["PRAGMA query_only = OFF"] : []
            // COMMIT and ROLLBACK run in tasks of their own: a cancelled caller (a client gone, a
            // shutdown) must never leave the one connection inside an open transaction, or read-only.
            let finish: @Sendable (String) async throws -> Void = { statement in
                try await Task {
                    var failure: (any Error)?
                    for step in [statement] + afterEnd {
                        do { try await database.raw(SQLQueryString(step)).run() } catch { failure = failure ?? error }
                    }
                    if let failure { throw failure }
                }.value
            }
            do {
                for statement in begin { try await database.raw(SQLQueryString(statement)).run() }
                let result = try await body(database, ChangeRecorder())
                try await finish("COMMIT")
                return result
            } catch {
                try? await finish("ROLLBACK")
                throw Self.classify(error)
            }
        }
    }

    /// One SQLite server holds the file: every change is exclusive already.
    func exclusively<R: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        try await transaction(.change) { db, _ in try await body(db) }
    }

    /// What an SQLite failure means to a caller: a database that cannot answer now (busy, locked,
    /// out of space, I/O, closed) is `unavailable`, a key violation a conflict; anything else (the
    /// caller's own errors above all) passes unchanged.
    static func classify(_ error: any Error) -> any Error {
        guard let error = error as? SQLiteError else { return error }
        switch error.reason {
        case .constraint, .constraintUniqueFailed, .constraintPrimaryKeyFailed, .constraintForeignKeyFailed,
            .constraintCheckFailed, .constraintNotNullFailed, .constraintUniqueRowIDFailed:
            return RegentError(.conflict, "the change conflicts with what is stored")
        case .busy, .locked, .ioError, .full, .cantOpen, .readOnly, .noMemory, .interrupt, .permission, .proto,
            .misuse, .notADatabase:
            return RegentError(.unavailable, "the database did not answer; try again")
        default:
            return error
        }
    }

    /// A consistent copy in a new file (`VACUUM INTO` reads one snapshot).
    func backup(to path: String) async throws {
        try await gate.withLock {
            do {
                try await self.database.raw("VACUUM INTO \(bind: path)").run()
            } catch {
                throw Self.classify(error)
            }
        }
    }

    func changes() -> AsyncStream<StoreChanges> { AsyncStream { $0.finish() } }

    var leads: Bool { true }
    var hearsChanges: Bool { true }

    func close() async throws {
        try await gate.withLock { try await self.connection.close() }
    }
}
