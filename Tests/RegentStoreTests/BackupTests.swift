import Foundation
import RegentAudit
import RegentCore
import RegentStore
import Testing

/// `regent backup`'s copy: taken from an open database, it opens as a Regent database with the
/// same audit chain, and never overwrites a file.
struct BackupTests {
    @Test func backupIsAVerifiableCopy() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("regent-backup-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let original = try await SQLStore.openSQLite(path: directory.appendingPathComponent("regent.db").path)
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        for n in 0..<25 {
            _ = try await original.transaction { tx in
                try await tx.appendAudit(
                    AuditDraft(
                        id: UUID(), time: start.addingTimeInterval(Double(n)), actor: .system, action: .requestCreated,
                        details: ["n": "\(n)"]))
            }
        }
        let copyPath = directory.appendingPathComponent("copy.db").path
        try await original.backup(to: copyPath)
        // The original goes on; the copy is the state at the backup.
        _ = try await original.transaction { tx in
            try await tx.appendAudit(AuditDraft(id: UUID(), time: start, actor: .system, action: .requestExpired))
        }
        await #expect(throws: RegentError(.invalidArgument, "", field: "to")) {
            try await original.backup(to: copyPath)
        }
        let head = try await original.transaction { try await $0.auditHead() }
        try await original.close()

        let copy = try await SQLStore.openSQLite(path: copyPath)
        let report = try await copy.verifyAuditChain(trustedKey: nil)
        let copied = try await copy.transaction { try await $0.auditHead() }
        try await copy.close()
        #expect(report.isIntact && report.verifiedEvents == 25)
        #expect(copied.seq == head.seq - 1)
    }
}
