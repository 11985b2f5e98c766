public import Foundation
public import RegentConnectors
public import RegentCore
public import RegentStore

/// The SSH CA's ledger in the engine's database: what `revoke` marks there every replica's
/// revocation list says. The engine records each certificate in the transaction that audits it.
public struct StoreSSHCertificateLedger: SSHCertificateLedger {
    let store: any Store
    let clock: any EngineClock

    public init(store: any Store, clock: any EngineClock) {
        self.store = store
        self.clock = clock
    }

    public func revokeCertificates(of assignment: Assignment.ID) async throws {
        let now = clock.now()
        try await store.transaction { try await $0.revokeSSHCertificates(of: assignment, at: now) }
    }

    public func revocations() async throws -> SSHRevocations {
        let now = clock.now()
        return try await store.transaction(.read) { try await $0.sshRevocations(at: now) }
    }
}
