import Foundation
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
    @Test(.enabled(if: TestDatabase.postgresServer != nil), .timeLimit(.minutes(1)))
    func aSilentServerFailsTheStatementAsUnavailable() async throws {
        try await TestDatabase.postgres.withStores(statementSilence: .seconds(1)) { stores in
            let store = stores[0]
            // A connection left idle in the pool, the one the next transaction is given.
            _ = try await store.transaction(.read) { try await $0.auditEvents(after: 0, limit: 1) }
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
            let events = try await store.transaction(.read) { try await $0.auditEvents(after: 0, limit: 1) }
            #expect(events.isEmpty)
        }
    }
}
