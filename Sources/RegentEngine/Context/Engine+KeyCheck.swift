import Crypto
import Foundation
import RegentAudit
import RegentConnectors
import RegentStore

/// Every replica of one database must hold the same keys: a replica with another audit signing
/// key would sign checkpoints the others' verification does not expect, one with another sealing
/// key could not open what they sealed, one with another SSH CA key would publish a CA hosts do not
/// trust. The first start records each key's fingerprint in the database; a later start with a
/// different key refuses before it writes anything.
extension Engine {
    public enum StartError: Error, Equatable, CustomStringConvertible {
        case keyDiffers(String)

        public var description: String {
            switch self {
            case .keyDiffers(let key):
                "this server's \(key) is not the one this database was started with; give every replica the same "
                    + "keys (one --data-dir on shared storage, or the same key files)"
            }
        }
    }

    /// Each key this server holds: the setting its fingerprint is kept under, its name, the fingerprint.
    var keyFingerprints: [(setting: String, name: String, fingerprint: String)] {
        var keys = [("key.secrets", "secret-sealing key (\(SecretBox.fileName))", secrets.fingerprint)]
        if let signer {
            keys.append(("key.audit-signing", "audit signing key (\(AuditSigner.fileName))", signer.publicKeyBase64))
        }
        if let sshAuthority {
            keys.append(
                ("key.ssh-ca", "SSH CA key (\(SSHCertificateAuthority.keyFileName))", sshAuthority.publicKeyLine))
        }
        return keys
    }

    func checkKeys() async throws {
        let keys = keyFingerprints
        try await store.transaction { tx in
            for key in keys {
                if let recorded = try await tx.setting(key.setting) {
                    guard recorded == key.fingerprint else { throw StartError.keyDiffers(key.name) }
                } else {
                    try await tx.setSetting(key.setting, key.fingerprint)
                }
            }
        }
    }
}

extension SecretBox {
    /// Names the key without revealing it: an HMAC of a fixed text under it.
    var fingerprint: String {
        Data(HMAC<SHA256>.authenticationCode(for: Data("regent key check".utf8), using: key)).base64EncodedString()
    }
}
