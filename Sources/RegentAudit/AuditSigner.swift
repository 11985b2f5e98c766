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

    /// Loads the key from `directory`, creating it (0600) if it does not exist yet.
    public static func loadOrCreate(in directory: URL) throws(AuditError) -> AuditSigner {
        try AuditSigner(
            rawKey: KeyFile.loadOrCreate(named: fileName, in: directory) {
                Curve25519.Signing.PrivateKey().rawRepresentation
            })
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
