import Crypto
public import Foundation
public import RegentAudit

/// Seals secrets stored in the database (TOTP secrets now, connector secrets later) with AES-GCM
/// under a key kept in the data directory, never in the database.
public struct SecretBox: Sendable {
    public static let fileName = "secrets.key"
    let key: SymmetricKey

    public init(key: Data) { self.key = SymmetricKey(data: key) }

    /// A box with a fresh random key, for tests.
    public static func ephemeral() -> SecretBox {
        SecretBox(key: SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) })
    }

    public static func loadOrCreate(in directory: URL) throws(AuditError) -> SecretBox {
        SecretBox(
            key: try KeyFile.loadOrCreate(named: fileName, in: directory) {
                SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
            })
    }

    public func seal(_ plaintext: Data) throws -> String {
        guard let combined = try AES.GCM.seal(plaintext, using: key).combined else {
            throw SecretBoxError.cannotSeal
        }
        return combined.base64EncodedString()
    }

    public func open(_ sealed: String) throws -> Data {
        guard let data = Data(base64Encoded: sealed) else { throw SecretBoxError.cannotOpen }
        do {
            return try AES.GCM.open(AES.GCM.SealedBox(combined: data), using: key)
        } catch {
            throw SecretBoxError.cannotOpen
        }
    }
}

public enum SecretBoxError: Error, Equatable, Sendable {
    case cannotSeal
    /// Wrong key or altered data.
    case cannotOpen
}
