public import Foundation

/// A secret kept in a file of its own in the data directory, created with mode 0600 and refused
/// when others can read it. Regent's keys live outside the database so a copy of the database
/// alone neither forges checkpoints nor opens sealed secrets.
public enum KeyFile {
    /// Reads the base64 key at `directory/name`, or writes `generate()`'s key there first.
    public static func loadOrCreate(
        named name: String, in directory: URL, generate: () -> Data
    ) throws(AuditError) -> Data {
        let url = directory.appendingPathComponent(name)
        let manager = FileManager.default
        if manager.fileExists(atPath: url.path) {
            guard let attributes = try? manager.attributesOfItem(atPath: url.path),
                let permissions = attributes[.posixPermissions] as? Int
            else { throw AuditError.badKey("cannot read \(url.path)") }
            guard permissions & 0o077 == 0 else {
                throw AuditError.badKey(
                    "\(url.path) is readable by others (mode \(String(permissions, radix: 8))); chmod 600 it")
            }
            guard let data = manager.contents(atPath: url.path),
                let raw = Data(
                    base64Encoded: String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                )
            else { throw AuditError.badKey("cannot read \(url.path)") }
            return raw
        }
        let key = generate()
        do {
            try manager.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw AuditError.badKey("cannot create \(directory.path): \(error)")
        }
        let contents = Data((key.base64EncodedString() + "\n").utf8)
        guard manager.createFile(atPath: url.path, contents: contents, attributes: [.posixPermissions: 0o600]) else {
            throw AuditError.badKey("cannot write \(url.path)")
        }
        return key
    }
}
