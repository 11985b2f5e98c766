import Foundation
public import Logging
import RegentAudit
import RegentCore
import SQLKit
import SQLiteKit

/// The one Store implementation, over SQLKit. SQLite (WAL, foreign keys, full sync) is the
/// embedded default; the SQL is kept portable so PostgreSQL can run the same contract suite.
public final class SQLStore: Store {
    private let database: any SQLDatabase
    private let closeConnection: @Sendable () async throws -> Void
    private let gate = AsyncLock()
    public let location: String

    private init(database: any SQLDatabase, location: String, close: @escaping @Sendable () async throws -> Void) {
        self.database = database
        self.location = location
        self.closeConnection = close
    }

    /// Opens (creating if needed) an SQLite database file and brings its schema up to date.
    /// `path` nil opens a private in-memory database (tests).
    public static func openSQLite(path: String?, logger: Logger = Logger(label: "regent.store")) async throws
        -> SQLStore
    {
        let storage: SQLiteConnection.Storage = path.map { .file(path: $0) } ?? .memory
        let connection: SQLiteConnection
        do {
            connection = try await SQLiteConnection.open(storage: storage, logger: logger)
        } catch {
            throw StoreError.unavailable("cannot open SQLite database \(path ?? ":memory:"): \(error)")
        }
        let store = SQLStore(database: connection.sql(queryLogLevel: nil), location: path ?? ":memory:") {
            try await connection.close()
        }
        do {
            for pragma in [
                "PRAGMA journal_mode = WAL", "PRAGMA synchronous = FULL", "PRAGMA foreign_keys = ON",
                "PRAGMA busy_timeout = 5000",
            ] {
                try await store.database.raw(SQLQueryString(pragma)).run()
            }
            try await store.migrate()
        } catch {
            try? await connection.close()
            throw error
        }
        return store
    }

    public static var supportedSchemaVersion: Int { Migrations.all.count }

    private func migrate() async throws {
        try await database.raw(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)"
        ).run()
        let current =
            try await database.raw("SELECT MAX(version) AS v FROM schema_migrations").first()?
            .decode(column: "v", as: Int?.self) ?? 0
        guard current <= Migrations.all.count else {
            throw StoreError.schemaTooNew(found: current, supported: Migrations.all.count)
        }
        for version in (current + 1)...max(current + 1, Migrations.all.count) where version <= Migrations.all.count {
            try await transaction { tx in
                for statement in Migrations.all[version - 1] { try await tx.db.raw(SQLQueryString(statement)).run() }
                let now = Date().milliseconds
                try await tx.db.raw(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (\(bind: version), \(bind: now))"
                ).run()
            }
        }
    }

    public func transaction<R: Sendable>(_ body: @Sendable (StoreTransaction) async throws -> R) async throws -> R {
        try await gate.withLock {
            let database = self.database
            do {
                try await database.raw("BEGIN IMMEDIATE").run()
            } catch {
                throw Self.classify(error)
            }
            // COMMIT and ROLLBACK run in tasks of their own: a cancelled caller (a client gone, a
            // shutdown) must never leave the one connection inside an open transaction.
            do {
                let result = try await body(StoreTransaction(db: database))
                try await Task { try await database.raw("COMMIT").run() }.value
                return result
            } catch {
                try? await Task { try await database.raw("ROLLBACK").run() }.value
                throw Self.classify(error)
            }
        }
    }

    /// What a database failure means to a caller, decided here once, in the error type that crosses
    /// every boundary: a database that cannot answer now (busy, locked, out of space, I/O, closed) is
    /// `unavailable` — retry later, or on another replica — and a uniqueness or key violation is a
    /// conflict with what is stored.
    /// Anything else (the caller's own errors above all) passes unchanged.
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

    /// A consistent copy of the whole database, taken while Regent runs, in a new file at `path`:
    /// SQLite's `VACUUM INTO` reads one snapshot (writers wait only as for any transaction) and
    /// writes a compact database that opens as Regent's, schema and audit chain included. An
    /// existing file is never overwritten.
    public func backup(to path: String) async throws {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw RegentError.invalid("to", "\(path) exists; a backup never overwrites a file")
        }
        try await gate.withLock {
            do {
                try await self.database.raw("VACUUM INTO \(bind: path)").run()
            } catch {
                throw Self.classify(error)
            }
        }
    }

    public func close() async throws {
        try await gate.withLock { try await self.closeConnection() }
    }
}
