import Foundation
import RegentCore
import RegentStore

/// Before the SSH CA's ledger moved into the database it was `ssh/issued.json`. Its certificates
/// are imported once, revocations included, so that upgrading never makes a revoked certificate
/// valid again; the file is then renamed `issued.json.imported`.
enum LegacySSHLedger {
    struct Ledger: Decodable {
        struct Issued: Decodable {
            var serial: UInt64
            var assignmentId: String
            var validBefore: Date
            var revoked: Bool
        }
        var issued: [Issued]
    }

    enum ImportError: Error, CustomStringConvertible {
        case unreadable(path: String, reason: String)

        var description: String {
            switch self {
            case .unreadable(let path, let reason): "\(path) is not the SSH ledger an earlier Regent wrote: \(reason)"
            }
        }
    }

    static let marker = "ssh.legacy-ledger-imported"

    static func importIfPresent(in directory: URL, into store: any Store) async throws {
        let file = directory.appendingPathComponent("issued.json")
        guard let data = FileManager.default.contents(atPath: file.path) else { return }
        let ledger: Ledger
        do {
            ledger = try JSONDecoder().decode(Ledger.self, from: data)
        } catch {
            throw ImportError.unreadable(path: file.path, reason: "\(error)")
        }
        let now = Date()
        try await store.transaction { tx in
            guard try await tx.setting(marker) == nil else { return }
            for issued in ledger.issued where issued.validBefore > now {
                guard let uuid = UUID(uuidString: issued.assignmentId) else { continue }
                try await tx.recordSSHCertificate(
                    serial: issued.serial, assignment: Assignment.ID(uuid), validBefore: issued.validBefore,
                    revokedAt: issued.revoked ? now : nil)
            }
            try await tx.setSetting(marker, now.rfc3339)
        }
        try FileManager.default.moveItem(at: file, to: directory.appendingPathComponent("issued.json.imported"))
    }
}
