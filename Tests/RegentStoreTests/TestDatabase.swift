import Foundation
import Logging
import PostgresNIO
import RegentStore
import Testing

/// The databases the store contract runs on: SQLite in memory and in a file, and PostgreSQL when
/// the test command started one (`REGENT_TEST_POSTGRES_URL`, `REGENT_TEST_POSTGRES_PASSWORD`;
/// `scripts/test` always does, and CI fails without it).
enum TestDatabase: String, CaseIterable, CustomTestStringConvertible {
    case sqliteMemory, sqliteFile, postgres
    var testDescription: String { rawValue }

    static let postgresServer: PostgresLocation? = {
        let environment = ProcessInfo.processInfo.environment
        guard let url = environment["REGENT_TEST_POSTGRES_URL"] else { return nil }
        return try? PostgresLocation(parsing: url, password: environment["REGENT_TEST_POSTGRES_PASSWORD"])
    }()

    static var available: [TestDatabase] { postgresServer == nil ? [.sqliteMemory, .sqliteFile] : allCases }

    /// Opens fresh, empty stores on one new database (`replicas` of them: several processes
    /// sharing it), runs `body`, and always closes them and removes the database.
    func withStores(
        replicas: Int = 1, statementSilence: Duration = .seconds(30), _ body: ([SQLStore]) async throws -> Void
    ) async throws {
        switch self {
        case .sqliteMemory, .sqliteFile:
            precondition(replicas == 1, "SQLite has one server")
            let path: String? =
                self == .sqliteFile
                ? FileManager.default.temporaryDirectory.appendingPathComponent("regent-\(UUID()).db").path : nil
            try await Self.closing([try await SQLStore.openSQLite(path: path)], body)
        case .postgres:
            guard var location = Self.postgresServer else { throw PostgresMissing() }
            let name = "regent_test_\(UUID().uuidString.prefix(8).lowercased())"
            try await Self.administer(location, "CREATE DATABASE \(name)")
            location.database = name
            // Opened at once, as replicas started together are: each migrates, one at a time.
            let created = location
            let results = await withTaskGroup(of: (Int, Result<SQLStore, any Error>).self) { group in
                for replica in 0..<replicas {
                    group.addTask {
                        do {
                            return (
                                replica,
                                .success(
                                    try await SQLStore.openPostgres(
                                        created, replica: "replica-\(replica)", statementSilence: statementSilence))
                            )
                        } catch {
                            return (replica, .failure(error))
                        }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }.sorted { $0.0 < $1.0 }.map(\.1)
            }
            let opened = results.compactMap { try? $0.get() }
            do {
                for result in results { _ = try result.get() }
                try await Self.closing(opened, body)
            } catch {
                for store in opened { try? await store.close() }
                try? await Self.administer(location, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
                throw error
            }
            try await Self.administer(location, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        }
    }

    func withStore(_ body: (SQLStore) async throws -> Void) async throws {
        try await withStores { try await body($0[0]) }
    }

    private static func closing(_ stores: [SQLStore], _ body: ([SQLStore]) async throws -> Void) async throws {
        do {
            try await body(stores)
            for store in stores { try await store.close() }
        } catch {
            for store in stores { try? await store.close() }
            throw error
        }
    }

    /// Runs one statement on the server's `postgres` database (creating and dropping test databases).
    /// The server processes serving a store's connections, named by the database in its location.
    static func serverProcesses(of store: SQLStore) async throws -> [Int32] {
        guard let server = postgresServer, let database = URLComponents(string: store.location)?.path.dropFirst()
        else { throw PostgresMissing() }
        var processes: [Int32] = []
        try await administer(server, "SELECT pid FROM pg_stat_activity WHERE datname = '\(database)'") { row in
            processes.append(try row.decode(Int32.self))
        }
        return processes
    }

    private static func administer(
        _ server: PostgresLocation, _ statement: String, eachRow: (PostgresRow) throws -> Void = { _ in }
    ) async throws {
        let connection = try await PostgresConnection.connect(
            configuration: PostgresConnection.Configuration(
                host: server.endpoints[0].host, port: server.endpoints[0].port, username: server.user,
                password: server.password,
                database: "postgres", tls: .disable),
            id: 1, logger: Logger(label: "regent.test"))
        do {
            for try await row in try await connection.query(
                PostgresQuery(unsafeSQL: statement), logger: Logger(label: "regent.test"))
            {
                try eachRow(row)
            }
            try await connection.close()
        } catch {
            try? await connection.close()
            throw error
        }
    }

    struct PostgresMissing: Error {}
}

struct TestDatabaseTests {
    /// CI runs the contract on PostgreSQL too: a run without it is a failure there, not a skip.
    @Test func postgresIsThereInCI() {
        guard ProcessInfo.processInfo.environment["CI"] == "true" else { return }
        #expect(
            TestDatabase.postgresServer != nil,
            "CI must run the store contract on PostgreSQL (scripts/test starts one: REGENT_TEST_POSTGRES_URL)")
    }
}
