import Foundation
import RegentAudit
import RegentConnectors
import RegentCore
import RegentEngine
import RegentStore
import RegentTestSupport
import Synchronization
import Testing

/// A target kept in memory: which account holds which value, what each call saw, and failures
/// to inject. It stands in for PostgreSQL here; the end-to-end suite runs the real one.
final class MemoryTarget: Provisioner, Sendable {
    let kind = Target.Kind.postgres
    let held = Mutex<Set<String>>([])
    let calls = Mutex<[String]>([])
    let failRevocations = Mutex(false)
    let lastSecret = Mutex<String?>(nil)

    func grant(_ spec: GrantSpec) async throws(ExternalFailure) -> IssuedCredential? {
        lastSecret.withLock { $0 = spec.secrets["password"] }
        calls.withLock { $0.append("grant \(spec.value) \(spec.account)") }
        _ = held.withLock { $0.insert("\(spec.value) \(spec.account)") }
        return nil
    }

    func revoke(_ spec: GrantSpec) async throws(ExternalFailure) {
        calls.withLock { $0.append("revoke \(spec.value) \(spec.account)") }
        if failRevocations.withLock({ $0 }) { throw ExternalFailure(transient: true, "target unreachable") }
        _ = held.withLock { $0.remove("\(spec.value) \(spec.account)") }
    }

    func observe(_ target: Target, secrets: TargetSecrets, values: Set<String>) async throws(ExternalFailure)
        -> [ObservedGrant]?
    {
        held.withLock { held in
            held.compactMap { entry -> ObservedGrant? in
                let parts = entry.split(separator: " ").map(String.init)
                guard parts.count == 2, values.contains(parts[0]) else { return nil }
                return ObservedGrant(value: parts[0], account: parts[1])
            }
        }
    }

    var holdings: Set<String> { held.withLock { $0 } }
}

struct ProvisioningTests {
    /// A role `name` whose one entitlement is `value` on a postgres target with a password secret.
    func role(_ h: Harness, _ name: String, value: String, target: Target? = nil) async throws -> (Role, Target) {
        let target =
            if let target { target } else {
                try await h.engine.provisioning.createTarget(
                    kind: .postgres, name: "db", scope: .root, config: ["dsn": "postgres://regent@127.0.0.1/app"],
                    secrets: ["password": "pg-secret"], by: h.admin)
            }
        let role = try await h.role(name)
        let updated = try await h.engine.directory.updateRole(
            role.id, description: nil, entitlements: [Entitlement(targetId: target.id, value: value)], by: h.admin)
        return (updated, target)
    }

    /// Granted at activation with the target's secret, revoked at the end, both audited.
    @Test func grantAndRevoke() async throws {
        let db = MemoryTarget()
        try await withHarness(provisioners: ProvisionerRegistry([db])) { h in
            let alice = try await h.user("alice")
            let (dba, _) = try await role(h, "dba", value: "pg_dba")
            try await h.assign(alice.principalId, dba)
            let request = try await h.activate(alice, dba, duration: .minutes(30))
            try await h.engine.provisioning.runDueJobs()
            #expect(db.holdings == ["pg_dba alice"])
            #expect(db.lastSecret.withLock { $0 } == "pg-secret")
            #expect(try await h.engine.requests.request(request.id)?.status == .provisioned)
            h.clock.advance(by: 1800)
            try await h.engine.provisioning.runDueJobs()
            #expect(db.holdings.isEmpty)
            let actions = try await h.auditEvents().map(\.action)
            #expect(actions.contains("grant.applied") && actions.contains("grant.revoked"))
        }
    }

    /// Two assignments giving the same entitlement: the first to end revokes nothing, the last does.
    @Test func overlappingGrantsAreCounted() async throws {
        let db = MemoryTarget()
        try await withHarness(provisioners: ProvisionerRegistry([db])) { h in
            let alice = try await h.user("alice")
            let (reader, target) = try await role(h, "reader", value: "pg_read")
            let (analyst, _) = try await role(h, "analyst", value: "pg_read", target: target)
            try await h.assign(alice.principalId, reader, kind: .active, duration: .hours(1))
            try await h.assign(alice.principalId, analyst, kind: .active, duration: .hours(2))
            try await h.engine.provisioning.runDueJobs()
            #expect(db.holdings == ["pg_read alice"])
            h.clock.advance(by: 3600)
            try await h.engine.provisioning.runDueJobs()
            #expect(db.holdings == ["pg_read alice"])
            #expect(!db.calls.withLock { $0 }.contains("revoke pg_read alice"))
            h.clock.advance(by: 3600)
            try await h.engine.provisioning.runDueJobs()
            #expect(db.holdings.isEmpty)
        }
    }

    /// A revocation that keeps failing is never given up: past the attempt limit it is listed as
    /// failing, alerted once, retried on a fixed period, and recorded when it finally succeeds.
    @Test func failingRevocation() async throws {
        let db = MemoryTarget()
        let configuration = EngineConfiguration(
            checkpointEvery: 10, maximumJobAttempts: 3, failingRevocationRetry: 60)
        try await withHarness(provisioners: ProvisionerRegistry([db]), configuration: configuration) { h in
            let alice = try await h.user("alice")
            let (dba, _) = try await role(h, "dba", value: "pg_dba")
            try await h.assign(alice.principalId, dba, kind: .active, duration: .hours(1))
            try await h.engine.provisioning.runDueJobs()
            db.failRevocations.withLock { $0 = true }
            h.clock.advance(by: 3600)
            #expect(h.engine.check(principal: alice.principalId, role: dba.id, scope: .root) == nil)
            for _ in 0..<6 {
                try await h.engine.provisioning.runDueJobs()
                h.clock.advance(by: 301)
            }
            let failing = try await h.engine.provisioning.failingRevocations()
            #expect(failing.items.count == 1)
            let alerts = try await h.auditEvents().filter { $0.action == "alert.revocation_failing" }
            #expect(alerts.count == 1)
            #expect(db.holdings == ["pg_dba alice"])
            db.failRevocations.withLock { $0 = false }
            h.clock.advance(by: 61)
            try await h.engine.provisioning.runDueJobs()
            #expect(db.holdings.isEmpty)
            #expect(try await h.engine.provisioning.failingRevocations().items.isEmpty)
            #expect(try await h.auditEvents().contains { $0.action == "revocation.recovered" })
            #expect(try await h.store.transaction { try await $0.deadJobs() }.isEmpty)
        }
    }

    /// The reconciler revokes what no assignment explains (audited as outside Regent, never
    /// adopted) and grants again what an assignment in force lacks.
    @Test func reconcile() async throws {
        let db = MemoryTarget()
        try await withHarness(provisioners: ProvisionerRegistry([db])) { h in
            let alice = try await h.user("alice")
            let (dba, _) = try await role(h, "dba", value: "pg_dba")
            try await h.assign(alice.principalId, dba, kind: .active, duration: .hours(1))
            try await h.engine.provisioning.runDueJobs()
            // Someone grants bob the role by hand, and alice's grant disappears.
            db.held.withLock { $0 = ["pg_dba bob", "pg_other carol"] }
            let report = try await h.engine.provisioning.reconcile()
            #expect(report == Engine.ReconcileReport(revoked: 1, regranted: 1, failedTargets: []))
            try await h.engine.provisioning.runDueJobs()
            #expect(db.holdings == ["pg_dba alice", "pg_other carol"])  // pg_other is not Regent's
            let outside = try #require(try await h.auditEvents().last { $0.action == "grant.outside_regent" })
            #expect(outside.details["account"] == "bob")
            #expect(try await h.auditEvents().contains { $0.action == "grant.missing" })
            // A second pass finds nothing to do.
            #expect(try await h.engine.provisioning.reconcile() == Engine.ReconcileReport())
            // After the end, a grant put back by hand is taken away again.
            h.clock.advance(by: 3600)
            try await h.engine.provisioning.runDueJobs()
            db.held.withLock { _ = $0.insert("pg_dba alice") }
            #expect(try await h.engine.provisioning.reconcile().revoked == 1)
            #expect(db.holdings == ["pg_other carol"])
        }
    }

    /// Jobs a killed server had claimed run as soon as the next one starts, not when the lease ends.
    @Test func leasesOfAKilledServerAreFreed() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("regent-\(UUID()).db").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let db = MemoryTarget()
        let h = try await Harness.make(path: path, provisioners: ProvisionerRegistry([db]))
        let alice = try await h.user("alice")
        let (dba, _) = try await role(h, "dba", value: "pg_dba")
        try await h.assign(alice.principalId, dba, kind: .active, duration: .hours(1))
        let claimed = try await h.store.transaction {
            try await $0.claimDueJobs(now: h.clock.now(), lease: 60, limit: 10)
        }
        #expect(claimed.count == 1)
        try await h.store.close()
        let restarted = try await Harness.make(
            path: path, at: h.clock.now().addingTimeInterval(1), signer: h.signer, secrets: h.secrets,
            provisioners: ProvisionerRegistry([db]), runJobs: false)
        #expect(try await restarted.engine.provisioning.runDueJobs() == 1)
        #expect(db.holdings == ["pg_dba alice"])
        await restarted.close()
    }

    /// After downtime, start catches up on the timers only; the check index says "no" for every
    /// ended assignment at once, and the revocations run afterwards, all of them.
    @Test func backlogAfterDowntime() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("regent-\(UUID()).db").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let db = MemoryTarget()
        let h = try await Harness.make(path: path, provisioners: ProvisionerRegistry([db]))
        let (dba, _) = try await role(h, "dba", value: "pg_dba")
        var people: [ActorContext] = []
        for n in 0..<40 {
            let person = try await h.user("user\(n)")
            try await h.assign(person.principalId, dba, kind: .active, duration: .minutes(10 + Int64(n)))
            people.append(person)
        }
        try await h.engine.provisioning.runDueJobs()
        #expect(db.holdings.count == 40)
        try await h.store.close()
        let restarted = try await Harness.make(
            path: path, at: h.clock.now().addingTimeInterval(3600), signer: h.signer, secrets: h.secrets,
            provisioners: ProvisionerRegistry([db]), runJobs: false)
        for person in people {
            #expect(restarted.engine.check(principal: person.principalId, role: dba.id, scope: .root) == nil)
        }
        #expect(db.holdings.count == 40)
        #expect(try await restarted.engine.provisioning.runDueJobs() == 40)
        #expect(db.holdings.isEmpty)
        #expect(try await restarted.verifyChain().isIntact)
        await restarted.close()
    }
}
