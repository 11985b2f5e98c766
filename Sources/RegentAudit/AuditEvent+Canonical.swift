import Crypto
import Foundation
import RegentCore

/// The canonical encoding: a version tag, then every field in a fixed order, each length-prefixed
/// (absent optionals are a distinct marker), details sorted by key. Written by hand rather than as
/// JSON so that no encoder's choices (escaping, key order, number format) can ever change a hash.
extension AuditEvent {
    public var canonicalBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        func put(_ text: String?) {
            guard let text else {
                out.append(0)
                return
            }
            out.append(1)
            let bytes = Array(text.utf8)
            withUnsafeBytes(of: UInt32(bytes.count).bigEndian) { out.append(contentsOf: $0) }
            out.append(contentsOf: bytes)
        }
        put("regent-audit-v1")
        put(String(seq))
        put(id.uuidString.lowercased())
        put(String(time.milliseconds))
        put(actor.principalId?.description)
        put(actor.name)
        put(actor.sourceAddress)
        put(actor.userAgent)
        put(action)
        put(subject.principalId?.description)
        put(subject.roleId?.description)
        put(subject.scope?.path)
        put(outcome.rawValue)
        put(reason)
        put(correlationId)
        put(String(details.count))
        for key in details.keys.sorted() {
            put(key)
            put(details[key])
        }
        return out
    }

    /// SHA-256 over the previous hash (as text) and the canonical bytes, in lowercase hex.
    public func computedHash() -> String {
        var hasher = SHA256()
        hasher.update(data: Array(prevHash.utf8))
        hasher.update(data: canonicalBytes)
        return hasher.finalize().hexString
    }
}

extension Sequence where Element == UInt8 {
    /// Lowercase hex, built from a table: verification hashes every record, so this is hot.
    public var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = []
        for byte in self {
            bytes.append(digits[Int(byte >> 4)])
            bytes.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
