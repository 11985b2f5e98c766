import ArgumentParser
import Foundation
import RegentStore

/// `regent backup --db sqlite:regent.db --to FILE`: a consistent online copy of an SQLite
/// database, safe to take while `regent serve` runs; `regent audit verify --db FILE` checks it.
struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy the SQLite database consistently, while Regent runs.")

    @Option(help: "Database (REGENT_DB): sqlite:PATH. Default sqlite:regent.db.")
    var db: String?
    @Option(help: "The new file to write; it must not exist.")
    var to: String

    func run() async throws {
        let store = try await DatabaseLocation.openExisting(db)
        do {
            try await store.backup(to: to)
            try await store.close()
        } catch {
            try? await store.close()
            throw Regent.fail("cannot back up: \(error)")
        }
        say("backed up to \(to)")
    }
}
