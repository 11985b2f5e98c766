public import Crypto
public import Foundation
public import RegentCore
import Synchronization

/// Where the CA's ledger lives: which certificate serials were issued for which assignment and
/// which are revoked. It is the engine's database, so every replica writes the same list; the
/// engine records each certificate in the transaction that audits its issue.
public protocol SSHCertificateLedger: Sendable {
    /// Revokes every certificate of the assignment (again is nothing).
    func revokeCertificates(of assignment: Assignment.ID) async throws
    /// The revoked certificates not yet past their end.
    func revocations() async throws -> SSHRevocations
}

/// Regent as an OpenSSH user certificate authority (Ed25519). An activation's certificate is
/// valid until the activation ends and names it (key id = request id); an activation that ends
/// early has its certificates' serials put in a key revocation list that sshd reads through
/// `RevokedKeys`. As a provisioner, granting is nothing (the user fetches a certificate) and
/// revoking is the revocation list; certificates expire by themselves, so nothing is observed.
public final class SSHCertificateAuthority: Provisioner, Sendable {
    public let kind = Target.Kind.ssh
    let key: Curve25519.Signing.PrivateKey
    let ledger: any SSHCertificateLedger
    /// The path for sshd's `RevokedKeys`, written again whenever the list changes.
    public let revocationListURL: URL
    /// The CA key's file in the data directory.
    public static let keyFileName = "ssh-ca.key"
    /// The version of the list last written, so a slower write never replaces a newer list.
    private let written = Mutex<Date?>(nil)

    /// A certificate as OpenSSH writes it, ready for `~/.ssh/id_ed25519-cert.pub`.
    public struct Certificate: Sendable {
        public var line: String
        public var serial: UInt64
        public var principals: [String]
        public var validBefore: Date
    }

    public enum CertificateError: Error, Equatable, CustomStringConvertible {
        case unsupportedKey(String)
        case malformedKey
        case noPrincipals

        public var description: String {
            switch self {
            case .unsupportedKey(let type): "only ssh-ed25519 keys are signed, not \(type)"
            case .malformedKey: "not an OpenSSH public key line (ssh-ed25519 AAAA… [comment])"
            case .noPrincipals: "the entitlement names no SSH principal"
            }
        }
    }

    public init(key: Curve25519.Signing.PrivateKey, ledger: any SSHCertificateLedger, revocationListURL: URL) {
        self.key = key
        self.ledger = ledger
        self.revocationListURL = revocationListURL
    }

    /// The line for sshd's `TrustedUserCAKeys`.
    public var publicKeyLine: String {
        "ssh-ed25519 \(Self.publicKeyBlob(key.publicKey).base64EncodedString()) regent-user-ca"
    }

    /// Signs `publicKey` (an OpenSSH `ssh-ed25519` line) for one activation. The caller records
    /// the serial in the ledger before handing the certificate out.
    ///
    /// - Parameter extensions: exactly the role's; nothing else is added.
    public func issue(
        publicKey: String, principals: [String], extensions: [String], keyId: String,
        validAfter: Date, validBefore: Date
    ) throws -> Certificate {
        guard !principals.isEmpty else { throw CertificateError.noPrincipals }
        let userKey = try Self.parseEd25519(publicKey)
        let serial = UInt64.random(in: 1...UInt64(Int64.max))
        var body = SSHWriter()
        body.string("ssh-ed25519-cert-v01@openssh.com")
        body.string(Data((0..<32).map { _ in UInt8.random(in: 0...255) }))
        body.string(userKey)
        body.uint64(serial)
        body.uint32(1)  // user certificate
        body.string(keyId)
        var names = SSHWriter()
        for principal in principals { names.string(principal) }
        body.string(names.data)
        body.uint64(UInt64(max(0, validAfter.timeIntervalSince1970.rounded(.down))))
        body.uint64(UInt64(max(0, validBefore.timeIntervalSince1970.rounded(.down))))
        body.string(Data())  // no critical options
        var granted = SSHWriter()
        for name in extensions.sorted() {
            granted.string(name)
            granted.string(Data())
        }
        body.string(granted.data)
        body.string(Data())  // reserved
        body.string(Self.publicKeyBlob(key.publicKey))
        var signature = SSHWriter()
        signature.string("ssh-ed25519")
        signature.string(try key.signature(for: body.data))
        var certificate = body
        certificate.string(signature.data)
        return Certificate(
            line: "ssh-ed25519-cert-v01@openssh.com \(certificate.data.base64EncodedString()) \(keyId)",
            serial: serial, principals: principals, validBefore: validBefore)
    }

    public func grant(_ spec: GrantSpec) async throws(ExternalFailure) -> IssuedCredential? { nil }

    /// Revokes every certificate of the assignment and writes the list again.
    public func revoke(_ spec: GrantSpec) async throws(ExternalFailure) {
        guard let assignment = spec.assignmentId else { return }
        do {
            // Written even when nothing was left to revoke: an earlier attempt may have failed to.
            try await ledger.revokeCertificates(of: assignment)
            try await writeRevocationList()
        } catch {
            throw ExternalFailure(transient: true, "cannot write the SSH revocation list: \(error)")
        }
    }

    public func observe(_ target: Target, secrets: TargetSecrets, values: Set<String>) async throws(ExternalFailure)
        -> [ObservedGrant]?
    { [] }

    /// The revocation list as the ledger has it now. Its version and time are those of the newest
    /// revocation, so every replica produces the same bytes.
    public func revocationList() async throws -> Data {
        let revocations = try await ledger.revocations()
        return revocationList(revocations)
    }

    /// Writes the list from the ledger, atomically: at start, after a revocation here, and when
    /// another replica revoked.
    public func writeRevocationList() async throws {
        let revocations = try await ledger.revocations()
        try FileManager.default.createDirectory(
            at: revocationListURL.deletingLastPathComponent(), withIntermediateDirectories: true)
        try written.withLock { written in
            if let written, written > revocations.version { return }
            try revocationList(revocations).write(to: revocationListURL, options: .atomic)
            written = revocations.version
        }
    }

    private func revocationList(_ revocations: SSHRevocations) -> Data {
        let version = revocations.version
        return KeyRevocationList(
            caPublicKey: Self.publicKeyBlob(key.publicKey), serials: revocations.serials,
            version: UInt64(max(0, version.timeIntervalSince1970 * 1000)), generated: version
        ).encoded
    }

    static func publicKeyBlob(_ key: Curve25519.Signing.PublicKey) -> Data {
        var blob = SSHWriter()
        blob.string("ssh-ed25519")
        blob.string(key.rawRepresentation)
        return blob.data
    }

    /// The raw 32-byte key of an `ssh-ed25519 AAAA… comment` line.
    static func parseEd25519(_ line: String) throws -> Data {
        let fields = line.split(whereSeparator: \.isWhitespace)
        guard fields.count >= 2, let blob = Data(base64Encoded: String(fields[1])) else {
            throw CertificateError.malformedKey
        }
        guard fields[0] == "ssh-ed25519" else { throw CertificateError.unsupportedKey(String(fields[0].prefix(64))) }
        var reader = SSHReader(blob)
        guard let type = reader.string(), type == Data("ssh-ed25519".utf8), let key = reader.string(), key.count == 32,
            reader.isAtEnd
        else { throw CertificateError.malformedKey }
        return key
    }
}

/// An OpenSSH key revocation list (PROTOCOL.krl) revoking certificates of one CA by serial.
struct KeyRevocationList {
    var caPublicKey: Data
    var serials: [UInt64]
    var version: UInt64
    var generated: Date

    var encoded: Data {
        var krl = SSHWriter()
        krl.uint64(0x5353_484b_524c_0a00)  // "SSHKRL\n\0"
        krl.uint32(1)  // format version
        krl.uint64(version)
        krl.uint64(UInt64(max(0, generated.timeIntervalSince1970)))
        krl.uint64(0)  // flags
        krl.string(Data())  // reserved
        krl.string("regent")
        var certificates = SSHWriter()
        certificates.string(caPublicKey)
        certificates.string(Data())  // reserved
        if !serials.isEmpty {
            var list = SSHWriter()
            for serial in serials { list.uint64(serial) }
            certificates.byte(0x20)  // KRL_SECTION_CERT_SERIAL_LIST
            certificates.string(list.data)
        }
        krl.byte(1)  // KRL_SECTION_CERTIFICATES
        krl.string(certificates.data)
        return krl.data
    }
}

extension SSHCertificateAuthority {
    /// An ssh entitlement's value: principals, then optionally `;` and the certificate extensions
    /// the role allows, e.g. `deploy,admin;permit-pty`.
    public static func entitlement(_ value: String) -> (principals: [String], extensions: [String]) {
        let parts = value.split(separator: ";", maxSplits: 1).map(String.init)
        func list(_ text: String?) -> [String] {
            (text ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        return (list(parts.first), list(parts.count > 1 ? parts[1] : nil))
    }
}
