import Foundation
public import Logging
import RegentAudit
import RegentCore
import SQLKit

/// The one Store implementation, over SQLKit: the same SQL and the same contract on SQLite (the
/// embedded default, one server) and PostgreSQL (several replicas); the few differences live in
/// its ``StoreBackend``.
public final class SQLStore: Store {
    private let backend: any StoreBackend
    public let location: String

    private init(backend: any StoreBackend, location: String) async throws {
        self.backend = backend
        self.location = location
        do {
            try await migrate()
        } catch {
            try? await backend.close()
            throw error
        }
    }

    /// Opens (creating if needed) an SQLite database file and brings its schema up to date.
    /// `path` nil opens a private in-memory database (tests).
    public static func openSQLite(path: String?, logger: Logger = Logger(label: "regent.store")) async throws
        -> SQLStore
    {
        try await SQLStore(backend: try await SQLiteBackend(path: path, logger: logger), location: path ?? ":memory:")
    }

    /// Connects to a PostgreSQL database shared by the replicas and brings its schema up to date
    /// (once, under a lock the other replicas wait for). `replica` names this process in the
    /// leases it takes and the changes it publishes. A statement the server leaves unanswered
    /// for `statementSilence` fails as unavailable.
    public static func openPostgres(
        _ location: PostgresLocation, replica: String, logger: Logger = Logger(label: "regent.store"),
        statementSilence: Duration = .seconds(30)
    ) async throws -> SQLStore {
        try await SQLStore(
            backend: try await PostgresBackend(
                location: location, replica: replica, logger: logger, statementSilence: statementSilence),
            location: location.description)
    }

    public static var supportedSchemaVersion: Int { Migrations.all.count }

    /// Every pending migration in one transaction that runs on one replica at a time; a database
    /// newer than this build is refused before anything is written.
    private func migrate() async throws {
        try await backend.exclusively { db in
            try await db.raw(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)"
            ).run()
            let current =
                try await db.raw("SELECT MAX(version) AS v FROM schema_migrations").first()?
                .decode(column: "v", as: Int?.self) ?? 0
            guard current <= Migrations.all.count else {
                throw StoreError.schemaTooNew(found: current, supported: Migrations.all.count)
            }
            for version in Migrations.all.indices.map({ $0 + 1 }) where version > current {
                for statement in Migrations.all[version - 1] { try await db.raw(SQLQueryString(statement)).run() }
                try await db.raw(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (\(bind: version), \(bind: Date().milliseconds))"
                ).run()
            }
        }
    }

    public func transaction<R: Sendable>(
        _ kind: TransactionKind, _ body: @Sendable (StoreTransaction) async throws -> R
    ) async throws -> R {
        let (dialect, replica) = (backend.dialect, backend.replica)
        return try await backend.transaction(kind) { db, recorder in
            try await body(StoreTransaction(db: db, dialect: dialect, replica: replica, recorder: recorder))
        }
    }

    public func changes() -> AsyncStream<StoreChanges> { backend.changes() }

    public var leads: Bool { backend.leads }

    public var hearsChanges: Bool { backend.hearsChanges }

    /// The schema version this binary migrates to.
    public static let schemaVersion = Migrations.all.count

    public var isShared: Bool { backend.dialect == .postgresql }

    /// A consistent copy of the whole SQLite database, taken while Regent runs, in a new file at
    /// `path`: SQLite's `VACUUM INTO` reads one snapshot (writers wait only as for any
    /// transaction) and writes a compact database that opens as Regent's, schema and audit chain
    /// included. An existing file is never overwritten. PostgreSQL is backed up with its own
    /// tools (README).
    public func backup(to path: String) async throws {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw RegentError.invalid("to", "\(path) exists; a backup never overwrites a file")
        }
        guard let sqlite = backend as? SQLiteBackend else {
            throw RegentError.invalid("db", "regent backup copies SQLite databases; back up PostgreSQL with pg_dump")
        }
        try await sqlite.backup(to: path)
    }

    public func close() async throws { try await backend.close() }
}
