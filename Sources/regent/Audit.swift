import ArgumentParser
import Foundation
import RegentAudit
import RegentStore

struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Work with the audit log.", subcommands: [AuditLog.self, Verify.self],
        defaultSubcommand: AuditLog.self)

    /// `regent audit verify --db PATH`: recomputes the whole chain offline and checks the signed
    /// checkpoints; exits non-zero naming the first bad record.
    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Verify the audit chain offline.")

        @Option(
            help:
                "Database (REGENT_DB): sqlite:PATH or postgres://USER@HOST:PORT/DB?sslmode=verify-full&sslrootcert=PATH (password in REGENT_DB_PASSWORD or REGENT_DB_PASSWORD_FILE). Default sqlite:regent.db."
        )
        var db: String?
        @Option(name: .customLong("data-dir"), help: "Directory holding the signing key, to pin checkpoints to it.")
        var dataDir: String?
        @Flag(help: "Print the result as JSON.")
        var json = false

        func run() async throws {
            let store = try await DatabaseLocation.openExisting(db)
            let trustedKey = try trustedPublicKey()
            let report: ChainVerifier.Report
            do {
                report = try await store.verifyAuditChain(trustedKey: trustedKey)
                try await store.close()
            } catch {
                try? await store.close()
                throw Regent.fail("cannot read the audit log: \(error)")
            }
            if json {
                let fields: [String: Any] = [
                    "intact": report.isIntact, "events": report.verifiedEvents,
                    "checkpoints": report.verifiedCheckpoints,
                    "lastHash": report.lastHash, "firstBadRecord": report.problem.map { $0.seq } as Any,
                    "problem": report.problem.map { $0.reason } as Any,
                ]
                let data = try JSONSerialization.data(
                    withJSONObject: fields.compactMapValues { $0 }, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else if report.isIntact {
                print(
                    "audit chain intact: \(report.verifiedEvents) events, \(report.verifiedCheckpoints) signed checkpoints"
                )
            }
            if let problem = report.problem {
                throw Regent.fail("audit chain broken at \(problem)")
            }
        }

        private func trustedPublicKey() throws -> String? {
            guard let dataDir = setting(dataDir, "data-dir", default: "").nilIfEmpty else { return nil }
            let path = URL(fileURLWithPath: dataDir).appendingPathComponent(AuditSigner.fileName).path
            guard FileManager.default.fileExists(atPath: path) else { return nil }
            do {
                return try AuditSigner.loadOrCreate(in: URL(fileURLWithPath: dataDir)).publicKeyBase64
            } catch {
                throw Regent.fail("\(error)")
            }
        }
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
