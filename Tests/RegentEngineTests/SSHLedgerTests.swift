import Crypto
import Foundation
import RegentAudit
import RegentConnectors
import RegentCore
import RegentStore
import RegentTestSupport
import Testing

@testable import RegentEngine

/// The SSH CA's ledger lives in the database: a certificate is recorded with its audit event, an
/// early end revokes it in the revocation list this server writes, and another server over the
/// same database writes the same list when it learns of the change.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/ssh-keygen")))
struct SSHLedgerTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("regent-ssh-ledger-\(UUID())")

    /// An `ssh-ed25519 AAAA…` line for a fresh key, as a user would send it.
    static func userKeyLine() -> String {
        func string(_ bytes: Data) -> Data {
            var length = UInt32(bytes.count).bigEndian
            return Data(bytes: &length, count: 4) + bytes
        }
        let raw = Curve25519.Signing.PrivateKey().publicKey.rawRepresentation
        return "ssh-ed25519 \((string(Data("ssh-ed25519".utf8)) + string(raw)).base64EncodedString()) alice@laptop"
    }

    func revoked(_ certificate: String, in list: URL) throws -> Bool {
        let path = directory.appendingPathComponent("cert-\(UUID()).pub").path
        try (certificate + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/ssh-keygen")
        process.arguments = ["-Q", "-f", list.path, path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus != 0
    }

    @Test func revocationReachesEveryServersList() async throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("regent.db").path
        let key = Curve25519.Signing.PrivateKey()
        let (listA, listB) = (directory.appendingPathComponent("a.krl"), directory.appendingPathComponent("b.krl"))
        let a = try await Harness.make(path: path, ssh: SSHAuthoritySetup(key: key, revocationList: listA))
        let alice = try await a.user("alice")
        let hosts = try await a.engine.provisioning.createTarget(
            kind: .ssh, name: "hosts", scope: .root, config: [:], secrets: [:], by: a.admin)
        let ops = try await a.role("ops")
        _ = try await a.engine.directory.updateRole(
            ops.id, description: nil, entitlements: [Entitlement(targetId: hosts.id, value: "deploy")], by: a.admin)
        let assigned = try await a.assign(alice.principalId, ops, kind: .active, duration: .hours(1))
        try await a.engine.provisioning.runDueJobs()
        let issued = try await a.engine.provisioning.issueSSHCertificates(
            publicKey: Self.userKeyLine(), role: nil, by: alice)
        #expect(issued.map(\.certificate.principals) == [["deploy"]])
        let certificate = try #require(issued.first).certificate
        #expect(try !revoked(certificate.line, in: listA))

        // A second server over the same database, as another replica would be.
        let b = try await Harness.make(
            path: path, at: a.clock.now(), signer: a.signer, secrets: a.secrets,
            ssh: SSHAuthoritySetup(key: key, revocationList: listB))
        #expect(try !revoked(certificate.line, in: listB))

        let assignment = try #require(assigned.assignmentId)
        _ = try await a.engine.requests.submit(
            RequestDraft(
                action: .adminRemove, requesterId: a.admin.principalId, principalId: alice.principalId,
                roleId: ops.id, scope: .root, kind: .active, targetAssignmentId: assignment),
            by: a.admin)
        try await a.engine.provisioning.runDueJobs()
        #expect(try revoked(certificate.line, in: listA))

        try await b.engine.absorb(
            {
                var change = StoreChanges(); change.sshRevocations = true; return change
            }())
        #expect(try revoked(certificate.line, in: listB))
        #expect(try Data(contentsOf: listA) == Data(contentsOf: listB))
        await b.close()
        await a.close()
    }

    /// A restart with another key than the database was started with refuses before writing.
    @Test func anotherKeyIsRefusedAtStart() async throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("regent.db").path
        let list = directory.appendingPathComponent("revoked.krl")
        let key = Curve25519.Signing.PrivateKey()
        let first = try await Harness.make(path: path, ssh: SSHAuthoritySetup(key: key, revocationList: list))
        let events = try await first.store.transaction(.read) { try await $0.auditHead().seq }
        await first.close()
        for (signer, secrets, sshKey, named) in [
            (AuditSigner.generate(), first.secrets, key, "audit signing key"),
            (first.signer, SecretBox.ephemeral(), key, "secret-sealing key"),
            (first.signer, first.secrets, Curve25519.Signing.PrivateKey(), "SSH CA key"),
        ] {
            await #expect {
                _ = try await Harness.make(
                    path: path, signer: signer, secrets: secrets,
                    ssh: SSHAuthoritySetup(key: sshKey, revocationList: list))
            } throws: { error in
                "\(error)".contains(named) && (error as? Engine.StartError) != nil
            }
        }
        let again = try await Harness.make(
            path: path, signer: first.signer, secrets: first.secrets,
            ssh: SSHAuthoritySetup(key: key, revocationList: list))
        #expect(try await again.store.transaction(.read) { try await $0.auditHead().seq } == events)
        #expect(try await again.verifyChain().isIntact)
        await again.close()
    }
}
