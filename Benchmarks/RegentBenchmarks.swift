import Foundation
import RegentAudit
import RegentCore
import RegentEngine
import RegentStore

/// Regent's benchmarks, run by `scripts/bench` on a release build. Each prints numbers, never a
/// pass/fail: targets are read by people, not asserted in unit tests.
@main
enum RegentBenchmarks {
    static func main() async throws {
        let arguments = CommandLine.arguments.dropFirst()
        func value(_ name: String, _ fallback: Int) -> Int {
            guard let index = arguments.firstIndex(of: "--\(name)"), index + 1 < arguments.endIndex,
                let number = Int(arguments[index + 1])
            else { return fallback }
            return number
        }
        let only = arguments.first { !$0.hasPrefix("--") && Int($0) == nil }
        if only == nil || only == "check" {
            checkIndex(
                principals: value("principals", 100_000), assignments: value("assignments", 1_000_000),
                checks: value("checks", 1_000_000))
        }
        if only == nil || only == "activate" {
            try await activations(count: value("activations", 2000))
        }
        if only == nil || only == "verify" {
            try await auditVerification(events: value("events", 1_000_000))
        }
        if only == nil || only == "governance" {
            try await governance(users: value("users", 5000))
        }
    }

    static func residentMegabytes() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kb = Double(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kb / 1024
    }

    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }

    static func nanoseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1e9 + Double(duration.components.attoseconds) / 1e9
    }

    /// `check(principal, role, scope, now)` over 1,000,000 active assignments of 100,000 principals.
    static func checkIndex(principals: Int, assignments: Int, checks: Int) {
        var generator = SystemRandomNumberGenerator()
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let people = (0..<principals).map { _ in Principal.ID(UUID()) }
        let roles = (0..<1000).map { _ in Role.ID(UUID()) }
        let scopes = [Scope.root] + (0..<100).map { try! Scope(parsing: "/env\($0 % 4)/team\($0)") }
        let leafScopes = scopes.dropFirst().map { try! Scope(parsing: $0.path + "/db") }
        let before = residentMegabytes()
        var batch: [Assignment] = []
        batch.reserveCapacity(assignments)
        for n in 0..<assignments {
            batch.append(
                Assignment.open(
                    id: Assignment.ID(UUID()), kind: .active, principalId: people[n % principals],
                    roleId: roles.randomElement(using: &generator)!, scope: scopes.randomElement(using: &generator)!,
                    start: now.addingTimeInterval(-60),
                    end: now.addingTimeInterval(Double.random(in: 60...28_800, using: &generator)),
                    requestId: nil, activatedFrom: nil, now: now.addingTimeInterval(-60)
                ).0)
        }
        let held = (0..<1000).map { _ in batch.randomElement(using: &generator)! }
        let index = CheckIndex()
        let loadStart = ContinuousClock.now
        var replacement = CheckIndex.Replacement(graph: MembershipGraph())
        replacement.add(batch)
        _ = index.replace(with: replacement)
        let loadTime = ContinuousClock.now - loadStart
        batch = []
        let memory = residentMegabytes() - before
        var latencies: [Double] = []
        latencies.reserveCapacity(checks)
        var hits = 0
        let clock = ContinuousClock()
        for _ in 0..<checks {
            // Half the checks ask about a role the principal holds (at a scope below it), half at random.
            let known = Bool.random(using: &generator) ? held.randomElement(using: &generator)! : nil
            let principal = known?.principalId ?? people.randomElement(using: &generator)!
            let role = known?.roleId ?? roles.randomElement(using: &generator)!
            let scope =
                known.map { try! Scope(parsing: ($0.scope == .root ? "" : $0.scope.path) + "/db") }
                ?? leafScopes.randomElement(using: &generator)!
            let start = clock.now
            if index.check(principal: principal, role: role, scope: scope, at: now) != nil { hits += 1 }
            latencies.append(nanoseconds(clock.now - start))
        }
        latencies.sort()
        print("check index: \(index.count) active assignments, \(principals) principals, load \(loadTime)")
        print(
            String(
                format: "check index: median %.0f ns, p99 %.0f ns, max %.0f ns over %d checks (%d hits)",
                percentile(latencies, 0.5), percentile(latencies, 0.99), latencies.last ?? 0, checks, hits))
        print(String(format: "check index: resident memory for the index and its assignments ≈ %.0f MB", memory))
    }

    /// Auto-approved `selfActivate` on a SQLite file (WAL, synchronous=FULL), audit included.
    static func activations(count: Int) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("regent-bench-\(UUID()).db").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let store = try await SQLStore.openSQLite(path: path)
        let engine = Engine(
            store: store, clock: SystemClock(), signer: .generate(), secrets: .ephemeral(), passwords: UnusedPasswords()
        )
        let (_, role, users) = try await eligibleUsers(count, on: engine, store: store, withEmail: false)
        let elapsed = try await activateEach(users, role: role, on: engine)
        try await store.close()
        print(
            String(
                format:
                    "activation: %d auto-approved activations in %.2f s = %.0f per second (SQLite WAL, synchronous=FULL, audit included)",
                count, elapsed, Double(count) / elapsed))
    }

    /// Bootstraps `engine` and makes `count` users eligible for one role; returns the
    /// administrator, the role and the users.
    static func eligibleUsers(_ count: Int, on engine: Engine, store: SQLStore, withEmail: Bool) async throws -> (
        ActorContext, Role, [ActorContext]
    ) {
        _ = try await engine.bootstrap(administratorPassword: "benchmark-admin-password")
        try await engine.start()
        let admin = try await store.transaction { try await $0.principal(named: "admin") }!
        let adminActor = ActorContext(principalId: admin.id, name: "admin", mfaVerifiedAt: Date())
        let role = try await engine.directory.createRole(
            name: "bench-role", description: "", entitlements: [], by: adminActor)
        var users: [ActorContext] = []
        for n in 0..<count {
            let user = try await engine.directory.createPrincipal(
                kind: .user, name: "user\(n)", displayName: nil, email: withEmail ? "user\(n)@example.com" : nil,
                password: nil, by: adminActor)
            _ = try await engine.requests.submit(
                RequestDraft(
                    action: .adminAssign, requesterId: admin.id, principalId: user.id, roleId: role.id, scope: .root,
                    kind: .eligible),
                by: adminActor)
            users.append(ActorContext(principalId: user.id, name: user.name))
        }
        return (adminActor, role, users)
    }

    /// Each user activates the role once (auto-approved); returns the seconds it took.
    static func activateEach(_ users: [ActorContext], role: Role, on engine: Engine) async throws -> Double {
        let start = ContinuousClock.now
        for var user in users {
            user.mfaVerifiedAt = Date()
            _ = try await engine.requests.submit(
                RequestDraft(
                    action: .selfActivate, requesterId: user.principalId, principalId: user.principalId,
                    roleId: role.id, scope: .root, kind: .active, justification: "bench", duration: .hours(1)),
                by: user)
        }
        return nanoseconds(ContinuousClock.now - start) / 1e9
    }

    /// Offline verification over a log of `events` records in SQLite, as `regent audit verify` does it.
    static func auditVerification(events: Int) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("regent-bench-audit-\(UUID()).db").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let store = try await SQLStore.openSQLite(path: path)
        let signer = AuditSigner.generate()
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let fillStart = ContinuousClock.now
        var written = 0
        while written < events {
            let batch = min(10_000, events - written)
            let base = written
            try await store.transaction { tx in
                for n in 0..<batch {
                    let event = try await tx.appendAudit(
                        AuditDraft(
                            id: UUID(), time: now.addingTimeInterval(Double(base + n)),
                            actor: AuditActor(principalId: nil, name: "bench"),
                            action: .requestCreated, subject: AuditSubject(scope: .root),
                            details: ["n": String(base + n)]))
                    if event.seq % 1000 == 0 {
                        try await tx.insertCheckpoint(
                            try signer.checkpoint(seq: event.seq, hash: event.hash, time: now))
                    }
                }
            }
            written += batch
        }
        let fill = nanoseconds(ContinuousClock.now - fillStart) / 1e9
        let verifyStart = ContinuousClock.now
        let report = try await store.verifyAuditChain(trustedKey: signer.publicKeyBase64)
        let elapsed = nanoseconds(ContinuousClock.now - verifyStart) / 1e9
        // The same check on events already in memory, to separate hashing from reading the database.
        let sample = try await store.transaction { try await $0.auditEvents(after: 0, limit: min(events, 200_000)) }
        let memoryStart = ContinuousClock.now
        var verifier = ChainVerifier(checkpoints: [], trustedKey: nil)
        for event in sample { verifier.feed(event) }
        let memoryElapsed = nanoseconds(ContinuousClock.now - memoryStart) / 1e9
        precondition(verifier.finish().isIntact, "the sample must verify")
        try await store.close()
        precondition(report.isIntact && report.verifiedEvents == Int64(events), "the benchmark chain must verify")
        print(
            String(
                format: "audit: wrote %d chained events in %.1f s (%.0f per second)", events, fill,
                Double(events) / fill))
        print(
            String(
                format: "audit verification: %d events and %d checkpoints in %.2f s = %.0f events per second",
                events, report.verifiedCheckpoints, elapsed, Double(events) / elapsed))
        print(
            String(
                format: "audit verification in memory (hashing only): %.0f events per second",
                Double(sample.count) / memoryElapsed))
    }

    /// The governance features' costs at `users` eligible users: activations with notifications
    /// queued (email to the requester, a webhook), one evaluation of every alert rule, and the
    /// audit log exported in each format.
    static func governance(users count: Int) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("regent-bench-gov-\(UUID()).db").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let store = try await SQLStore.openSQLite(path: path)
        let configuration = EngineConfiguration(
            notifications: NotificationSettings(
                smtp: SMTPSettings(host: "127.0.0.1", port: 25, from: "regent@example.com"),
                webhookURL: URL(string: "http://127.0.0.1:9/hook")))
        let engine = Engine(
            store: store, clock: SystemClock(), configuration: configuration, signer: .generate(),
            secrets: .ephemeral(),
            passwords: UnusedPasswords())
        let (adminActor, role, users) = try await eligibleUsers(count, on: engine, store: store, withEmail: true)
        var elapsed = try await activateEach(users, role: role, on: engine)
        let queued = try await store.transaction { try await $0.notifications(limit: 10_000_000).count }
        print(
            String(
                format:
                    "governance: %d activations with notifications queued in %.2f s = %.0f per second (%d messages in the outbox)",
                count, elapsed, Double(count) / elapsed, queued))
        var evaluations: [Double] = []
        var start = ContinuousClock.now
        for _ in 0..<5 {
            start = ContinuousClock.now
            try await engine.governance.evaluateAlerts()
            evaluations.append(nanoseconds(ContinuousClock.now - start) / 1e6)
        }
        print(
            String(
                format:
                    "governance: one evaluation of all alert rules over %d users, %d live assignments: median %.0f ms",
                count, 2 * count + 1, percentile(evaluations.sorted(), 0.5)))
        let events = try await store.transaction { try await $0.auditHead().seq }
        for format in ExportFormat.allCases {
            start = ContinuousClock.now
            let data = try await engine.auditLog.exportAudit(AuditFilter(), filters: [], format: format, by: adminActor)
            elapsed = nanoseconds(ContinuousClock.now - start) / 1e9
            print(
                String(
                    format: "governance: audit export %@ of %lld events in %.2f s (%.0f events/s, %.1f MB)",
                    format.rawValue, events, elapsed, Double(events) / elapsed, Double(data.count) / 1e6))
        }
        try await store.close()
    }
}

/// Benchmarks sign nobody in: the bootstrap password is kept by a stand-in that verifies nothing.
struct UnusedPasswords: PasswordHashing {
    let decoyHash = "unused"
    func verify(_ password: String, against hash: String) async throws -> Bool { false }
    func hash(_ password: String) async throws -> String { "unused" }
}
