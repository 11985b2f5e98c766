import Foundation
import RegentAudit
import RegentCore
import RegentStore
import Testing

/// The store contract: every test runs on each database in ``TestDatabase/available`` (SQLite,
/// and PostgreSQL whenever the test command started one, which it always does), with the same
/// expectations.
struct StoreContractTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    func user(_ name: String) throws -> Principal {
        try Principal(id: Principal.ID(UUID()), kind: .user, name: name, createdAt: Self.now)
    }

    /// Principals, groups and roles round-trip; names are unique.
    @Test(arguments: TestDatabase.available)
    func directory(database: TestDatabase) async throws {
        try await database.withStore { store in
            let alice = try user("alice")
            let group = try Principal(id: Principal.ID(UUID()), kind: .group, name: "dba", createdAt: Self.now)
            let role = try Role(id: Role.ID(UUID()), name: "orders-db-admin", description: "d", createdAt: Self.now)
            try await store.transaction { (tx) async throws in
                try await tx.insertPrincipal(alice, passwordHash: "$2b$hash")
                try await tx.insertPrincipal(group, passwordHash: nil)
                try await tx.addMember(alice.id, to: group.id)
                try await tx.insertRole(role)
            }
            try await store.transaction { (tx) async throws in
                #expect(try await tx.principal(named: "alice") == alice)
                #expect(try await tx.passwordHash(of: alice.id) == "$2b$hash")
                #expect(try await tx.membershipGraph().effectiveGroups(of: alice.id) == [group.id])
                #expect(try await tx.role(named: "orders-db-admin") == role)
            }
            let duplicate = try user("alice")
            await #expect(throws: (any Error).self) {
                try await store.transaction { tx in try await tx.insertPrincipal(duplicate, passwordHash: nil) }
            }
        }
    }

    /// A caller cancelled in the middle of a transaction (a client gone, a shutdown) leaves nothing
    /// behind: the transaction is rolled back and the next one starts cleanly. Without that, the
    /// one connection stayed inside the open transaction and every later write failed.
    @Test(arguments: TestDatabase.available)
    func cancelledTransaction(database: TestDatabase) async throws {
        try await database.withStore { store in
            let started = AsyncStream<Void>.makeStream()
            let never = AsyncStream<Void>.makeStream()
            let cancelled = Task {
                try await store.transaction { tx in
                    try await tx.insertPrincipal(try user("half"), passwordHash: nil)
                    started.continuation.yield()
                    for await _ in never.stream {}  // ends when the task is cancelled
                    try Task.checkCancellation()
                }
            }
            for await _ in started.stream { break }
            cancelled.cancel()
            await #expect(throws: CancellationError.self) { try await cancelled.value }
            try await store.transaction { tx in try await tx.insertPrincipal(try user("whole"), passwordHash: nil) }
            try await store.transaction { (tx) async throws in
                #expect(try await tx.principal(named: "half") == nil)
                #expect(try await tx.principal(named: "whole") != nil)
            }
        }
    }

    /// Assignments and requests keep every field, including the approval progress.
    @Test(arguments: TestDatabase.available)
    func assignmentsAndRequests(database: TestDatabase) async throws {
        try await database.withStore { store in
            let alice = try user("alice")
            let role = try Role(id: Role.ID(UUID()), name: "dba", createdAt: Self.now)
            var policy = Policy()
            policy.maximumDuration = .hours(1)
            policy.approval = Approval(stages: [ApprovalStage(approvers: [alice.id])])
            let p = policy
            let prod = try Scope(parsing: "/prod")
            let (eligible, _) = Assignment.open(
                id: Assignment.ID(UUID()), kind: .eligible, principalId: alice.id, roleId: role.id, scope: prod,
                start: Self.now, end: Self.now.addingTimeInterval(86_400), requestId: nil, activatedFrom: nil,
                now: Self.now)
            let request = Request(
                id: Request.ID(UUID()), action: .selfActivate, requesterId: alice.id, principalId: alice.id,
                roleId: role.id,
                scope: prod, kind: .active, justification: "INC-1", ticket: .init(system: "jira", number: "INC-1"),
                requestedStart: nil, duration: .minutes(30), targetAssignmentId: nil,
                assignmentId: Assignment.ID(UUID()),
                status: .denied, failedRules: [.maximumDuration, .requireMfa], reason: "no", approval: nil,
                createdAt: Self.now, updatedAt: Self.now)
            try await store.transaction { (tx) async throws in
                try await tx.insertPrincipal(alice, passwordHash: nil)
                try await tx.insertRole(role)
                try await tx.setPolicy(p, role: role.id, scope: prod, at: Self.now)
                try await tx.saveAssignment(eligible)
                try await tx.saveRequest(request)
            }
            try await store.transaction { (tx) async throws in
                #expect(try await tx.policies(role: role.id).first?.policy == p)
                #expect(try await tx.assignment(id: eligible.id) == eligible)
                #expect(try await tx.request(id: request.id) == request)
                let found = try await tx.assignments(
                    AssignmentFilter(
                        principalIds: [alice.id], kind: .eligible, states: AssignmentFilter.live,
                        scope: try Scope(parsing: "/prod/db")))
                #expect(found == [eligible])
                #expect(try await tx.assignments(AssignmentFilter(kind: .active)).isEmpty)
            }
        }
    }

    /// Jobs come due in order, are leased, retried at the given time, and kept when dead.
    @Test(arguments: TestDatabase.available)
    func jobQueue(database: TestDatabase) async throws {
        try await database.withStore { store in
            let first = Job(id: UUID(), kind: .grant(Assignment.ID(UUID())), dueAt: Self.now)
            let later = Job(id: UUID(), kind: .timer(.assignmentExpiry(Assignment.ID(UUID()))), dueAt: Self.now + 60)
            try await store.transaction { (tx) async throws in
                try await tx.enqueue(later, now: Self.now)
                try await tx.enqueue(first, now: Self.now)
            }
            try await store.transaction { (tx) async throws in
                #expect(try await tx.nextJobDue() == Self.now)
                let claimed = try await tx.claimDueJobs(now: Self.now, lease: 30, limit: 10)
                #expect(claimed.map(\.id) == [first.id])
                #expect(claimed.first?.attempts == 1)
                #expect(try await tx.claimDueJobs(now: Self.now + 10, lease: 30, limit: 10).isEmpty)  // leased
                #expect(try await tx.claimDueJobs(now: Self.now + 30, lease: 30, limit: 10).map(\.id) == [first.id])  // lease ran out
                try await tx.failJob(first.id, error: "boom", retryAt: Self.now + 120)
                #expect(try await tx.claimDueJobs(now: Self.now + 60, lease: 30, limit: 10).map(\.kind) == [later.kind])
                try await tx.completeJob(later.id)
                let retried = try await tx.claimDueJobs(now: Self.now + 120, lease: 30, limit: 10)
                #expect(retried.first?.attempts == 3)
                #expect(retried.first?.lastError == "boom")
                try await tx.failJob(first.id, error: "gave up", retryAt: nil)
                #expect(try await tx.pendingJobCount() == 0)
                #expect(try await tx.deadJobs().map(\.id) == [first.id])
            }
        }
    }

    /// Audit events chain in order, and an event written in a rolled-back transaction vanishes with it.
    @Test(arguments: TestDatabase.available)
    func auditIsTransactional(database: TestDatabase) async throws {
        try await database.withStore { store in
            @Sendable func draft(_ action: AuditAction) -> AuditDraft {
                AuditDraft(id: UUID(), time: Self.now, actor: .system, action: action)
            }
            try await store.transaction { (tx) async throws in
                try await tx.appendAudit(draft(.requestCreated))
                try await tx.appendAudit(draft(.requestApproved))
            }
            struct Abort: Error {}
            await #expect(throws: Abort.self) {
                try await store.transaction { (tx) async throws in
                    try await tx.appendAudit(draft(.requestDenied))
                    throw Abort()
                }
            }
            _ = try await store.transaction { tx in try await tx.appendAudit(draft(.requestExpired)) }
            let events = try await store.transaction { try await $0.auditEvents(after: 0, limit: 10) }
            #expect(events.map(\.action) == ["request.created", "request.approved", "request.expired"])
            #expect(events.map(\.seq) == [1, 2, 3])
            var verifier = ChainVerifier(checkpoints: [], trustedKey: nil)
            #expect(events.compactMap { verifier.feed($0) }.isEmpty)
            #expect(try await store.transaction { try await $0.auditHead() }.hash == events[2].hash)
        }
    }

    /// A file database keeps its data and schema across reopening; migrations run once.
    @Test func reopenFile() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("regent-\(UUID()).db").path
        let alice = try user("alice")
        let first = try await SQLStore.openSQLite(path: path)
        try await first.transaction { try await $0.insertPrincipal(alice, passwordHash: nil) }
        try await first.close()
        let second = try await SQLStore.openSQLite(path: path)
        let found = try await second.transaction { try await $0.principal(id: alice.id) }
        try await second.close()
        #expect(found == alice)
    }
}
