import Foundation
import RegentStore

/// Where the database is: `sqlite:PATH` (or a bare path), or `postgres://USER@HOST:PORT/DB?…`
/// shared by several replicas, whose password comes from `REGENT_DB_PASSWORD` or the file
/// `REGENT_DB_PASSWORD_FILE` names — never from the URL, which is logged.
enum DatabaseLocation: Equatable {
    case sqlite(path: String)
    case postgres(PostgresLocation)

    init(parsing text: String) throws(DatabaseLocationError) {
        if PostgresLocation.isPostgres(text) {
            do {
                self = .postgres(try PostgresLocation(parsing: text, password: try Self.password()))
            } catch let error as DatabaseLocationError {
                throw error
            } catch {
                throw DatabaseLocationError("\(error)")
            }
            return
        }
        var path = text
        if path.hasPrefix("sqlite://") {
            path.removeFirst("sqlite://".count)
        } else if path.hasPrefix("sqlite:") {
            path.removeFirst("sqlite:".count)
        }
        guard !path.isEmpty else { throw DatabaseLocationError("--db names no file (sqlite:regent.db)") }
        self = .sqlite(path: path)
    }

    private static func password() throws -> String? {
        let environment = ProcessInfo.processInfo.environment
        if let password = environment["REGENT_DB_PASSWORD"] { return password }
        guard let file = environment["REGENT_DB_PASSWORD_FILE"] else { return nil }
        guard let contents = FileManager.default.contents(atPath: file) else {
            throw DatabaseLocationError("cannot read REGENT_DB_PASSWORD_FILE \(file)")
        }
        return String(decoding: contents, as: UTF8.self).trimmingCharacters(in: .newlines)
    }

    /// Opens the store; `replica` names this process among the replicas of a PostgreSQL database.
    func open(replica: String = DatabaseLocation.replicaName()) async throws -> SQLStore {
        switch self {
        case .sqlite(let path): try await SQLStore.openSQLite(path: path)
        case .postgres(let location): try await SQLStore.openPostgres(location, replica: replica)
        }
    }

    /// This process among the replicas: host, process id and a random suffix (a restarted
    /// process is a new replica; the old one's leases end by themselves).
    static func replicaName() -> String {
        let suffix = UUID().uuidString.prefix(8).lowercased()
        return "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)-\(suffix)"
    }

    /// The database named by `--db` (or `REGENT_DB`), which must exist already: the offline
    /// commands (`audit verify`, `backup`) never create one. Any failure is the command's one line.
    static func openExisting(_ option: String?) async throws -> SQLStore {
        do {
            let location = try DatabaseLocation(parsing: setting(option, "db", default: "sqlite:regent.db"))
            if case .sqlite(let path) = location, !FileManager.default.fileExists(atPath: path) {
                throw DatabaseLocationError("no database at \(path)")
            }
            return try await location.open()
        } catch {
            throw Regent.fail("\(error)")
        }
    }
}

struct DatabaseLocationError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
