import Foundation
import RegentAudit
import Testing

struct AuditSignerTests {
    /// The key is created once with mode 0600 and read back unchanged; a key others can read is refused.
    @Test func keyFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("regent-key-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let created = try AuditSigner.loadOrCreate(in: directory)
        let path = directory.appendingPathComponent(AuditSigner.fileName).path
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try AuditSigner.loadOrCreate(in: directory).publicKeyBase64 == created.publicKeyBase64)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        #expect(throws: AuditError.self) { try AuditSigner.loadOrCreate(in: directory) }
    }
}
