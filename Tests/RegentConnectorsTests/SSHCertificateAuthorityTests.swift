import Crypto
import Foundation
import RegentConnectors
import RegentCore
import Synchronization
import Testing

/// A ledger in memory: what the engine's database does for the CA, reduced to what these tests
/// of the certificate and list formats need.
final class MemoryLedger: SSHCertificateLedger {
    private let state = Mutex<(issued: [Assignment.ID: [UInt64]], revoked: Set<UInt64>, latest: Date?)>(
        ([:], [], nil))

    func record(_ serial: UInt64, for assignment: Assignment.ID) {
        state.withLock { $0.issued[assignment, default: []].append(serial) }
    }

    func revokeCertificates(of assignment: Assignment.ID) async throws {
        state.withLock {
            $0.revoked.formUnion($0.issued[assignment] ?? [])
            $0.latest = Date()
        }
    }

    func revocations() async throws -> SSHRevocations {
        state.withLock { SSHRevocations(serials: $0.revoked.sorted(), latest: $0.latest) }
    }
}

/// Certificates and revocation lists as OpenSSH itself reads them (`ssh-keygen -L` and `-Q`).
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/ssh-keygen")))
struct SSHCertificateAuthorityTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("regent-ssh-\(UUID())")

    func sshKeygen(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/ssh-keygen")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    /// A user key made by ssh-keygen; returns the path of its `.pub`.
    func userKey() throws -> String {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("id_ed25519").path
        #expect(try sshKeygen(["-q", "-t", "ed25519", "-N", "", "-f", path]).status == 0)
        return path + ".pub"
    }

    @Test func certificateAsOpenSSHReadsIt() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let authority = authority(MemoryLedger())
        let publicKey = try String(contentsOfFile: try userKey(), encoding: .utf8)
        let end = Date().addingTimeInterval(3600).rounded
        let requestId = UUID().uuidString.lowercased()
        let certificate = try authority.issue(
            publicKey: publicKey, principals: ["deploy", "admin"], extensions: ["permit-pty"], keyId: requestId,
            validAfter: Date().addingTimeInterval(-60), validBefore: end)
        let certificatePath = directory.appendingPathComponent("id_ed25519-cert.pub").path
        try (certificate.line + "\n").write(toFile: certificatePath, atomically: true, encoding: .utf8)
        let (status, listing) = try sshKeygen(["-L", "-f", certificatePath])
        #expect(status == 0, "\(listing)")
        #expect(listing.contains("Type: ssh-ed25519-cert-v01@openssh.com user certificate"))
        #expect(listing.contains("Key ID: \"\(requestId)\""))
        #expect(listing.contains("Serial: \(certificate.serial)"))
        #expect(listing.contains("deploy") && listing.contains("admin"))
        #expect(listing.contains("permit-pty") && !listing.contains("permit-port-forwarding"))
        // The signing CA is the one published for TrustedUserCAKeys.
        let caFingerprint = try fingerprint(authority.publicKeyLine)
        #expect(listing.contains(caFingerprint))
    }

    func authority(_ ledger: MemoryLedger, key: Curve25519.Signing.PrivateKey = .init()) -> SSHCertificateAuthority {
        SSHCertificateAuthority(
            key: key, ledger: ledger, revocationListURL: directory.appendingPathComponent("ca/revoked.krl"))
    }

    /// An early end puts the serial in the revocation list; other certificates stay valid.
    @Test func revocationList() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let ledger = MemoryLedger()
        let authority = authority(ledger)
        try await authority.writeRevocationList()
        let publicKey = try String(contentsOfFile: try userKey(), encoding: .utf8)
        let (ended, kept) = (Assignment.ID(UUID()), Assignment.ID(UUID()))
        var paths: [String] = []
        for (n, assignment) in [ended, kept].enumerated() {
            let certificate = try authority.issue(
                publicKey: publicKey, principals: ["deploy"], extensions: [], keyId: "r\(n)",
                validAfter: Date(), validBefore: Date().addingTimeInterval(3600))
            ledger.record(certificate.serial, for: assignment)
            let path = directory.appendingPathComponent("cert\(n).pub").path
            try (certificate.line + "\n").write(toFile: path, atomically: true, encoding: .utf8)
            paths.append(path)
        }
        let krl = authority.revocationListURL.path
        #expect(try sshKeygen(["-Q", "-f", krl, paths[0]]).status == 0)
        let target = try Target(id: Target.ID(UUID()), kind: .ssh, name: "hosts", scope: .root)
        try await authority.revoke(
            GrantSpec(
                target: target, value: "deploy", account: "alice", assignmentId: ended, requestId: nil, until: nil))
        let (revokedStatus, revokedOutput) = try sshKeygen(["-Q", "-f", krl, paths[0]])
        #expect(revokedStatus != 0 && revokedOutput.contains("REVOKED"), "\(revokedOutput)")
        #expect(try sshKeygen(["-Q", "-f", krl, paths[1]]).status == 0)
        // The file holds exactly what the ledger says now.
        #expect(try await authority.revocationList() == Data(contentsOf: authority.revocationListURL))
    }

    /// Keys that are not ssh-ed25519 lines are refused with a reason.
    @Test func refusesOtherKeys() throws {
        let authority = authority(MemoryLedger())
        defer { try? FileManager.default.removeItem(at: directory) }
        for line in ["ssh-rsa AAAAB3NzaC1yc2E= x", "not a key", "ssh-ed25519 AAAA", ""] {
            #expect(throws: SSHCertificateAuthority.CertificateError.self) {
                _ = try authority.issue(
                    publicKey: line, principals: ["deploy"], extensions: [], keyId: "x",
                    validAfter: Date(), validBefore: Date().addingTimeInterval(60))
            }
        }
        #expect(
            SSHCertificateAuthority.entitlement("deploy, admin;permit-pty") == (["deploy", "admin"], ["permit-pty"]))
    }

    func fingerprint(_ line: String) throws -> String {
        let path = directory.appendingPathComponent("ca.pub").path
        try (line + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let (_, output) = try sshKeygen(["-l", "-f", path])
        return String(output.split(separator: " ")[1])
    }
}

extension Date {
    var rounded: Date { Date(timeIntervalSince1970: timeIntervalSince1970.rounded(.down)) }
}
