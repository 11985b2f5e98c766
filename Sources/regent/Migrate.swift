import ArgumentParser
import Foundation
import RegentAudit
import RegentStore

/// `regent migrate --from sqlite:regent.db --to postgres://…`: copies a whole Regent database,
/// audit chain included, into an empty one (the move from one server on SQLite to replicas on
/// PostgreSQL), then verifies the copied chain. Stop `regent serve` first: what it wrote after
/// the copy began would not be in it.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy a Regent database into an empty one (SQLite to PostgreSQL), audit chain included.")

    @Option(help: "The database to copy: sqlite:PATH or postgres://…")
    var from: String
    @Option(help: "The empty database to copy into: postgres://… or sqlite:PATH (password in REGENT_DB_PASSWORD).")
    var to: String

    func run() async throws {
        let source = try await DatabaseLocation.openExisting(from)
        let target: SQLStore
        do {
            target = try await DatabaseLocation(parsing: to).open()
        } catch {
            try? await source.close()
            throw Regent.fail("\(error)")
        }
        do {
            let report = try await source.copy(to: target)
            let verified = try await target.verifyAuditChain(trustedKey: nil)
            try await source.close()
            try await target.close()
            for (table, rows) in report where rows > 0 { say("\(table): \(rows)") }
            if let problem = verified.problem {
                throw Regent.fail("the copied audit chain does not verify: \(problem)")
            }
            say("copied to \(target.location); the audit chain verifies (\(verified.verifiedEvents) events)")
        } catch let exit as ExitCode {
            throw exit
        } catch {
            try? await source.close()
            try? await target.close()
            throw Regent.fail("cannot migrate: \(error)")
        }
    }
}
