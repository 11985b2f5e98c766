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
}

struct DatabaseLocationError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
