import Crypto
public import Foundation

/// The Ed25519 key that signs checkpoints. Created at first start in the data directory with
/// mode 0600 and never written anywhere else.
public struct AuditSigner: Sendable {
    private let key: Curve25519.Signing.PrivateKey

    public init(rawKey: Data) throws(AuditError) {
        do {
            key = try Curve25519.Signing.PrivateKey(rawRepresentation: rawKey)
        } catch {
            throw AuditError.badKey("the audit signing key is not a 32-byte Ed25519 key")
        }
    }

    /// A fresh key, for tests and first start.
    public static func generate() -> AuditSigner { AuditSigner(key: Curve25519.Signing.PrivateKey()) }

    private init(key: Curve25519.Signing.PrivateKey) { self.key = key }

    public var publicKeyBase64: String { key.publicKey.rawRepresentation.base64EncodedString() }

    public func checkpoint(seq: Int64, hash: String, time: Date) throws(AuditError) -> Checkpoint {
        var checkpoint = Checkpoint(
            seq: seq, hash: hash, time: Date(milliseconds: time.milliseconds), publicKey: publicKeyBase64, signature: ""
        )
        do {
            checkpoint.signature = try key.signature(for: checkpoint.signedBytes).base64EncodedString()
        } catch {
            throw AuditError.badKey("signing failed: \(error)")
        }
        return checkpoint
    }

    public static let fileName = "audit-signing.key"

    /// Loads the key from `directory`, creating it (0600) if it does not exist yet. A key file that
    /// others can read is refused rather than silently trusted.
    public static func loadOrCreate(in directory: URL) throws(AuditError) -> AuditSigner {
        let url = directory.appendingPathComponent(fileName)
        let manager = FileManager.default
        if manager.fileExists(atPath: url.path) {
            guard let attributes = try? manager.attributesOfItem(atPath: url.path),
                let permissions = attributes[.posixPermissions] as? Int
            else { throw AuditError.badKey("cannot read \(url.path)") }
            guard permissions & 0o077 == 0 else {
                throw AuditError.badKey(
                    "\(url.path) is readable by others (mode \(String(permissions, radix: 8))); chmod 600 it")
            }
            guard let data = manager.contents(atPath: url.path), let raw = Data(base64Encoded: data.trimmedBase64)
            else {
                throw AuditError.badKey("cannot read \(url.path)")
            }
            return try AuditSigner(rawKey: raw)
        }
        let signer = generate()
        do {
            try manager.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw AuditError.badKey("cannot create \(directory.path): \(error)")
        }
        let contents = Data((signer.key.rawRepresentation.base64EncodedString() + "\n").utf8)
        guard manager.createFile(atPath: url.path, contents: contents, attributes: [.posixPermissions: 0o600]) else {
            throw AuditError.badKey("cannot write \(url.path)")
        }
        return signer
    }
}

extension Data {
    fileprivate var trimmedBase64: String {
        String(decoding: self, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

public enum AuditError: Error, Equatable, Sendable, CustomStringConvertible {
    case badKey(String)

    public var description: String {
        switch self {
        case .badKey(let reason): reason
        }
    }
}
