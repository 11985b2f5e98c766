import Foundation
import RegentAudit
import RegentCore
import RegentStore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A PostgreSQL server that stops answering mid-transaction (a primary going away as a statement
/// is sent) fails the statement as unavailable instead of holding the caller — and the scheduler's
/// jobs behind it — for ever; the store answers again once the server does.
struct PostgresSilenceTests {
    static let silence: Duration = .seconds(3)

    @Test(.enabled(if: TestDatabase.postgresServer != nil), .timeLimit(.minutes(1)))
    func aSilentServerFailsTheStatementAsUnavailable() async throws {
        try await TestDatabase.postgres.withStores(statementSilence: Self.silence) { stores in
            let store = stores[0]
            // A connection left idle in the pool, the one the next transaction is given. On a
            // loaded machine a healthy statement may itself outlast the short silence: asked again.
            _ = try await Self.answered(store)
            let processes = try await TestDatabase.serverProcesses(of: store)
            #expect(!processes.isEmpty)
            for process in processes { kill(process, SIGSTOP) }
            let failure: RegentError?
            do {
                defer { for process in processes { kill(process, SIGCONT) } }
                failure = await #expect(throws: RegentError.self) {
                    try await store.transaction(.read) { try await $0.auditEvents(after: 0, limit: 1) }
                }
            }
            #expect(failure?.code == .unavailable)
            #expect(try await Self.answered(store).isEmpty)
        }
    }

    /// The store's answer to a small read, asked until it gives one (at most 10 times).
    static func answered(_ store: SQLStore) async throws -> [AuditEvent] {
        for _ in 1..<10 {
            do {
                return try await store.transaction(.read) { try await $0.auditEvents(after: 0, limit: 1) }
            } catch let error as RegentError where error.code == .unavailable {
                continue
            }
        }
        return try await store.transaction(.read) { try await $0.auditEvents(after: 0, limit: 1) }
    }
}
