public import Crypto
public import Foundation
public import RegentCore
import Synchronization

/// Regent as an OpenSSH user certificate authority (Ed25519). An activation's certificate is
/// valid until the activation ends and names it (key id = request id); an activation that ends
/// early has its certificates' serials put in a key revocation list that sshd reads through
/// `RevokedKeys`. As a provisioner, granting is nothing (the user fetches a certificate) and
/// revoking is the revocation list; certificates expire by themselves, so nothing is observed.
///
/// The issued certificates (serial, assignment, end) are kept in `issued.json` next to the list,
/// so revocation needs nothing but this directory.
public final class SSHCertificateAuthority: Provisioner, Sendable {
    public let kind = Target.Kind.ssh
    let key: Curve25519.Signing.PrivateKey
    let directory: URL
    private let ledger = Mutex<Ledger>(Ledger())

    struct Issued: Codable, Hashable {
        var serial: UInt64
        var assignmentId: String
        var validBefore: Date
        var revoked: Bool
    }

    struct Ledger: Codable {
        var issued: [Issued] = []
        var krlVersion: UInt64 = 0
    }

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

    public init(key: Curve25519.Signing.PrivateKey, directory: URL) throws {
        self.key = key
        self.directory = directory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        if let data = FileManager.default.contents(atPath: ledgerURL.path) {
            let stored = try JSONDecoder().decode(Ledger.self, from: data)
            ledger.withLock { $0 = stored }
        }
        try ledger.withLock { try write(&$0) }
    }

    /// The path for sshd's `RevokedKeys`.
    public var revocationListURL: URL { directory.appendingPathComponent("revoked.krl") }
    var ledgerURL: URL { directory.appendingPathComponent("issued.json") }

    /// The line for sshd's `TrustedUserCAKeys`.
    public var publicKeyLine: String {
        "ssh-ed25519 \(Self.publicKeyBlob(key.publicKey).base64EncodedString()) regent-user-ca"
    }

    /// Signs `publicKey` (an OpenSSH `ssh-ed25519` line) for one activation.
    ///
    /// - Parameter extensions: exactly the role's; nothing else is added.
    public func issue(
        publicKey: String, principals: [String], extensions: [String], keyId: String, assignmentId: Assignment.ID,
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
        try ledger.withLock { ledger in
            ledger.issued.append(
                Issued(
                    serial: serial, assignmentId: assignmentId.description, validBefore: validBefore, revoked: false))
            try write(&ledger)
        }
        return Certificate(
            line: "ssh-ed25519-cert-v01@openssh.com \(certificate.data.base64EncodedString()) \(keyId)",
            serial: serial, principals: principals, validBefore: validBefore)
    }

    public func grant(_ spec: GrantSpec) async throws(ExternalFailure) -> IssuedCredential? { nil }

    /// Revokes every certificate of the assignment (those already expired leave the list at the
    /// next write).
    public func revoke(_ spec: GrantSpec) async throws(ExternalFailure) {
        guard let assignment = spec.assignmentId?.description else { return }
        do {
            try ledger.withLock { ledger in
                var changed = false
                for index in ledger.issued.indices
                where ledger.issued[index].assignmentId == assignment && !ledger.issued[index].revoked {
                    ledger.issued[index].revoked = true
                    changed = true
                }
                if changed { try write(&ledger) }
            }
        } catch {
            throw ExternalFailure(transient: true, "cannot write the SSH revocation list: \(error)")
        }
    }

    public func observe(_ target: Target, secrets: TargetSecrets, values: Set<String>) async throws(ExternalFailure)
        -> [ObservedGrant]?
    { [] }

    /// Writes the ledger and the revocation list, each atomically. Certificates past their end
    /// are dropped: sshd refuses them anyway, so the list stays small (housekeeping, hence the
    /// system time).
    private func write(_ ledger: inout Ledger) throws {
        let now = Date()
        ledger.issued.removeAll { $0.validBefore <= now }
        ledger.krlVersion += 1
        let revoked = ledger.issued.filter(\.revoked).map(\.serial).sorted()
        try JSONEncoder().encode(ledger).write(to: ledgerURL, options: .atomic)
        try KeyRevocationList(
            caPublicKey: Self.publicKeyBlob(key.publicKey), serials: revoked, version: ledger.krlVersion,
            generated: now
        ).encoded.write(to: revocationListURL, options: .atomic)
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
