import Foundation
import RegentStore

/// Where the database is: `sqlite:PATH` (or a bare path) today; `postgres://…` is recognised and
/// refused clearly until the PostgreSQL store lands.
enum DatabaseLocation: Equatable {
    case sqlite(path: String)

    init(parsing text: String) throws(DatabaseLocationError) {
        if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            throw DatabaseLocationError("PostgreSQL is not supported by this build yet; use sqlite:PATH")
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

    func open() async throws -> SQLStore {
        switch self {
        case .sqlite(let path): try await SQLStore.openSQLite(path: path)
        }
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
