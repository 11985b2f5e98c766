import Foundation
import RegentAudit
import RegentCore
import RegentStore
import Testing

/// What several replicas on one database rely on: leases with owners and lanes, read-only
/// transactions, one audit chain under concurrent writers, claims that hand each job out once,
/// and changes that reach the other replicas.
struct StoreReplicaTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    /// A read transaction that tries to write is refused by the database, and nothing is written.
    @Test(arguments: TestDatabase.available)
    func readTransactionsCannotWrite(database: TestDatabase) async throws {
        try await database.withStore { store in
            let alice = try Principal(id: Principal.ID(UUID()), kind: .user, name: "alice", createdAt: Self.now)
            await #expect(throws: (any Error).self) {
                try await store.transaction(.read) { try await $0.insertPrincipal(alice, passwordHash: nil) }
            }
            #expect(try await store.transaction(.read) { try await $0.principal(id: alice.id) } == nil)
            try await store.transaction { try await $0.insertPrincipal(alice, passwordHash: nil) }
            #expect(try await store.transaction(.read) { try await $0.principal(id: alice.id) } == alice)
        }
    }

    /// The jobs of one assignment share a lane: while one is leased no other is handed out, so a
    /// revocation never runs beside the grant it undoes; a renewed lease keeps its job.
    @Test(arguments: TestDatabase.available)
    func lanesAndRenewal(database: TestDatabase) async throws {
        try await database.withStore { store in
            let assignment = Assignment.ID(UUID())
            let grant = Job(id: UUID(), kind: .grant(assignment), dueAt: Self.now)
            let revoke = Job(id: UUID(), kind: .revoke(assignment), dueAt: Self.now + 5)
            let other = Job(id: UUID(), kind: .grant(Assignment.ID(UUID())), dueAt: Self.now + 5)
            try await store.transaction { tx in
                try await tx.enqueue(grant, now: Self.now)
                try await tx.enqueue(revoke, now: Self.now)
                try await tx.enqueue(other, now: Self.now)
            }
            func claim(at time: Date) async throws -> [UUID] {
                try await store.transaction(.claim) { try await $0.claimDueJobs(now: time, lease: 30, limit: 10) }
                    .map(\.id)
            }
            #expect(try await claim(at: Self.now) == [grant.id])
            // The revocation is due, but its lane is leased; the other assignment's grant is not held up.
            #expect(try await claim(at: Self.now + 10) == [other.id])
            try await store.transaction { try await $0.completeJob(other.id) }
            try await store.transaction(.claim) { try await $0.renewJobLeases([grant.id], until: Self.now + 70) }
            #expect(try await claim(at: Self.now + 35).isEmpty)
            try await store.transaction { try await $0.completeJob(grant.id) }
            #expect(try await claim(at: Self.now + 41) == [revoke.id])
        }
    }

    /// At start, SQLite frees every lease (a file has one server: they were its own, from before a
    /// crash); PostgreSQL frees none, since live replicas hold them.
    @Test(arguments: TestDatabase.available)
    func leasesAtStart(database: TestDatabase) async throws {
        try await database.withStore { store in
            let job = Job(id: UUID(), kind: .grant(Assignment.ID(UUID())), dueAt: Self.now)
            try await store.transaction { try await $0.enqueue(job, now: Self.now) }
            _ = try await store.transaction(.claim) { try await $0.claimDueJobs(now: Self.now, lease: 60, limit: 10) }
            try await store.transaction { try await $0.releaseLeasesOfEndedRunners() }
            let again = try await store.transaction(.claim) {
                try await $0.claimDueJobs(now: Self.now + 1, lease: 60, limit: 10)
            }
            #expect(again.map(\.id) == (database == .postgres ? [] : [job.id]))
        }
    }

    /// Three replicas appending at once write one chain: every sequence number once, in order,
    /// and it verifies.
    @Test(.enabled(if: TestDatabase.postgresServer != nil))
    func oneChainUnderConcurrentReplicas() async throws {
        try await TestDatabase.postgres.withStores(replicas: 3) { stores in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, store) in stores.enumerated() {
                    group.addTask {
                        for step in 0..<15 {
                            try await store.transaction { tx in
                                _ = try await tx.appendAudit(
                                    AuditDraft(
                                        id: UUID(), time: Self.now, actor: .system, action: .requestCreated,
                                        reason: "replica \(index) step \(step)"))
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let events = try await stores[1].transaction(.read) { try await $0.auditEvents(after: 0, limit: 100) }
            #expect(events.map(\.seq) == Array(1...45))
            var verifier = ChainVerifier(checkpoints: [], trustedKey: nil)
            #expect(events.compactMap { verifier.feed($0) }.isEmpty)
        }
    }

    /// Three replicas claiming at once hand every job out exactly once.
    @Test(.enabled(if: TestDatabase.postgresServer != nil))
    func claimsHandEachJobOutOnce() async throws {
        try await TestDatabase.postgres.withStores(replicas: 3) { stores in
            let jobs = (0..<60).map { _ in Job(id: UUID(), kind: .grant(Assignment.ID(UUID())), dueAt: Self.now) }
            try await stores[0].transaction { tx in
                for job in jobs { try await tx.enqueue(job, now: Self.now) }
            }
            let all = try await withThrowingTaskGroup(of: [UUID].self) { group in
                for store in stores {
                    group.addTask {
                        var claimed: [UUID] = []
                        while true {
                            let batch = try await store.transaction(.claim) {
                                try await $0.claimDueJobs(now: Self.now, lease: 60, limit: 4)
                            }
                            if batch.isEmpty { return claimed }
                            claimed += batch.map(\.id)
                        }
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(all.count == jobs.count)
            #expect(Set(all) == Set(jobs.map(\.id)))
        }
    }

    /// What one replica commits reaches the others as a change naming it; a rolled-back change
    /// never does.
    @Test(.enabled(if: TestDatabase.postgresServer != nil))
    func changesReachTheOtherReplicas() async throws {
        try await TestDatabase.postgres.withStores(replicas: 2) { stores in
            let alice = try Principal(id: Principal.ID(UUID()), kind: .user, name: "alice", createdAt: Self.now)
            let bob = try Principal(id: Principal.ID(UUID()), kind: .user, name: "bob", createdAt: Self.now)
            try await stores[0].transaction { tx in
                try await tx.insertPrincipal(alice, passwordHash: nil)
                try await tx.insertPrincipal(bob, passwordHash: nil)
            }
            // The listener's first message, once connected, is the full reload it asks for.
            let (connected, isConnected) = AsyncStream.makeStream(of: Void.self)
            let heard = Task { () -> StoreChanges? in
                for await change in stores[1].changes() {
                    if change.everything {
                        isConnected.yield()
                        continue
                    }
                    return change
                }
                return nil
            }
            for await _ in connected { break }
            struct Abort: Error {}
            await #expect(throws: Abort.self) {
                try await stores[0].transaction { tx in
                    try await tx.setPrincipalEnabled(bob.id, false)
                    throw Abort()
                }
            }
            try await stores[0].transaction { tx in try await tx.setPrincipalEnabled(alice.id, false) }
            let change = try #require(await heard.value)
            #expect(change.principals == [alice.id])
            #expect(change.origin == "replica-0")
        }
    }

    /// `regent migrate`: everything is copied into an empty database of either kind, the audit
    /// chain exactly (a text holding U+0000 included), so it verifies there; a target that is not
    /// empty is refused.
    @Test(arguments: TestDatabase.available)
    func copyMovesEverything(database: TestDatabase) async throws {
        try await TestDatabase.sqliteFile.withStore { source in
            let alice = try Principal(id: Principal.ID(UUID()), kind: .user, name: "alice", createdAt: Self.now)
            let role = try Role(id: Role.ID(UUID()), name: "dba", description: "d", createdAt: Self.now)
            let (assignment, _) = Assignment.open(
                id: Assignment.ID(UUID()), kind: .eligible, principalId: alice.id, roleId: role.id, scope: .root,
                start: Self.now, end: nil, requestId: nil, activatedFrom: nil, now: Self.now)
            let job = Job(id: UUID(), kind: .grant(assignment.id), dueAt: Self.now)
            try await source.transaction { tx in
                try await tx.insertPrincipal(alice, passwordHash: "$2b$hash")
                try await tx.insertRole(role)
                try await tx.saveAssignment(assignment)
                try await tx.enqueue(job, now: Self.now)
                try await tx.setSetting("bootstrapped", "yes")
                for reason in ["first", "mallet\u{0} was here", "third"] {
                    _ = try await tx.appendAudit(
                        AuditDraft(id: UUID(), time: Self.now, actor: .system, action: .requestCreated, reason: reason))
                }
            }
            try await database.withStore { target in
                let report = try await source.copy(to: target)
                #expect(report.first { $0.table == "audit_events" }?.rows == 3)
                #expect(report.first { $0.table == "principals" }?.rows == 1)
                try await target.transaction(.read) { (tx) async throws in
                    #expect(try await tx.principal(named: "alice") == alice)
                    #expect(try await tx.passwordHash(of: alice.id) == "$2b$hash")
                    #expect(try await tx.assignment(id: assignment.id) == assignment)
                    #expect(try await tx.setting("bootstrapped") == "yes")
                    #expect(
                        try await tx.auditEvents(after: 0, limit: 10).map(\.reason) == [
                            "first", "mallet\u{0} was here", "third",
                        ])
                }
                #expect(try await target.verifyAuditChain(trustedKey: nil).isIntact)
                let claimed = try await target.transaction(.claim) {
                    try await $0.claimDueJobs(now: Self.now, lease: 30, limit: 10)
                }
                #expect(claimed.map(\.id) == [job.id])
                await #expect(throws: RegentError.self) { _ = try await source.copy(to: target) }
            }
        }
    }
}
