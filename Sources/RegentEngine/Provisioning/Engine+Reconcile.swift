public import Foundation
import Logging
import RegentAudit
import RegentConnectors
import RegentCore
import RegentStore
import Synchronization

/// The reconciler: Regent's assignments are the truth about every target it manages. What a
/// target has that no assignment in force explains is revoked and audited as assigned outside
/// Regent (never adopted); what an assignment in force should have and the target lacks is
/// granted again through the normal grant job.
extension Engine {
    public struct ReconcileReport: Sendable, Equatable {
        /// Grants found outside Regent and revoked.
        public var revoked = 0
        /// Missing grants queued to be granted again.
        public var regranted = 0
        /// Targets that could not be observed or corrected this time.
        public var failedTargets: [String] = []

        public init(revoked: Int = 0, regranted: Int = 0, failedTargets: [String] = []) {
            self.revoked = revoked
            self.regranted = regranted
            self.failedTargets = failedTargets
        }
    }

    func reconcile(
        _ target: Target, values: Set<String>, with connector: any Provisioner, into report: inout ReconcileReport
    ) async throws {
        // Before observing: what should be there and whose grant job has finished, so a grant still
        // on its way is never taken for a missing one.
        let settled = try await expected(on: target, settledOnly: true)
        let secrets = try await store.transaction { try await self.targetSecrets(target.id, in: $0) }
        guard let seen = try await connector.observe(target, secrets: secrets, values: values) else { return }
        let observed = Set(seen.map { EntitlementKey(target: target.id, $0) })
        // After observing: a grant the target shows was committed before its job ran, so the
        // assignment behind it is seen here.
        let expected = try await expected(on: target, settledOnly: false)
        for key in observed.subtracting(expected.keys).sorted(by: { ($0.account, $0.value) < ($1.account, $1.value) }) {
            let spec = GrantSpec(
                target: target, value: key.value, account: key.account, assignmentId: nil, requestId: nil, until: nil,
                secrets: secrets)
            let failure: ExternalFailure?
            do {
                try await connector.revoke(spec)
                failure = nil
            } catch { failure = error }
            try await store.transaction { tx in
                try await self.audit(
                    AuditNote(
                        .grantOutsideRegent, failure == nil ? .success : .failed, reason: failure?.reason,
                        details: ["target": target.name, "value": key.value, "account": key.account, "fix": "revoked"]),
                    in: tx, context: AuditContext(actor: .system, subject: AuditSubject(), correlationId: nil),
                    now: self.clock.now())
            }
            if let failure { throw failure }
            report.revoked += 1
        }
        for key in Set(expected.keys).intersection(settled.keys).subtracting(observed) {
            guard let assignment = expected[key] else { continue }
            let queued = try await store.transaction { tx -> Bool in
                guard try await !tx.hasPendingJob(.grant(assignment.id)) else { return false }
                let now = self.clock.now()
                try await tx.enqueue(Job(id: UUID(), kind: .grant(assignment.id), dueAt: now), now: now)
                try await self.audit(
                    AuditNote(
                        .grantMissing,
                        details: ["target": target.name, "value": key.value, "account": key.account, "fix": "granted"]),
                    in: tx, context: self.systemContext(assignment), now: now)
                return true
            }
            if queued { report.regranted += 1 }
        }
        if report.regranted > 0 { wakeup.signal() }
    }

    /// The entitlements the active assignments in force now give on `target`; with `settledOnly`,
    /// only those of assignments with no grant job waiting.
    func expected(on target: Target, settledOnly: Bool) async throws -> [EntitlementKey: Assignment] {
        let now = clock.now()
        return try await store.transaction { tx in
            var expected: [EntitlementKey: Assignment] = [:]
            for assignment in try await tx.liveAssignments()
            where assignment.kind == .active && assignment.state == .active && assignment.isInForce(at: now) {
                if settledOnly, try await tx.hasPendingJob(.grant(assignment.id)) { continue }
                for spec in try await self.grantSpecs(for: assignment, in: tx, openingSecrets: false)
                where spec.target.id == target.id {
                    expected[EntitlementKey(spec)] = assignment
                }
            }
            return expected
        }
    }
}

extension ProvisioningService {
    /// One pass over every target that has a connector here.
    public func reconcile() async throws -> Engine.ReconcileReport {
        var report = Engine.ReconcileReport()
        let (targets, roles) = try await engine.store.transaction { tx in
            (try await tx.targets(limit: 100_000), try await tx.roles(limit: 100_000))
        }
        for target in targets {
            guard let connector = engine.provisioners.provisioner(for: target.kind) else { continue }
            let values = Set(roles.flatMap(\.entitlements).filter { $0.targetId == target.id }.map(\.value))
            guard !values.isEmpty else { continue }
            do {
                try await engine.reconcile(target, values: values, with: connector, into: &report)
            } catch {
                engine.logger.warning("reconcile failed", metadata: ["target": "\(target.name)", "error": "\(error)"])
                report.failedTargets.append(target.name)
            }
        }
        let finished = engine.clock.now()
        engine.reconciledAt.withLock { $0 = finished }
        return report
    }

    /// When the last reconcile pass ended; nil before the first.
    public var lastReconciled: Date? { engine.reconciledAt.withLock { $0 } }
}
