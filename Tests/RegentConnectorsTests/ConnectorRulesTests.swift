import Foundation
import RegentCore
import Testing

@testable import RegentConnectors

/// The connectors' security-relevant pure functions: what reaches a target's SQL, a sudoers file or
/// a webhook receiver is decided here, so each is pinned by vectors from independent tools
/// (Python's hmac and hashlib) or by the rule it must keep.
struct ConnectorRulesTests {
    let assignment = Assignment.ID(UUID(uuidString: "00000000-0000-0000-0000-000000000007")!)

    /// A PostgreSQL identifier is always one quoted name: quotes are doubled, and an empty, NUL or
    /// over-long name is refused rather than truncated.
    @Test func postgresIdentifiers() throws {
        #expect(try PostgresProvisioner.identifier("orders_admin") == #""orders_admin""#)
        #expect(try PostgresProvisioner.identifier(#"x"; DROP ROLE admin; --"#) == #""x""; DROP ROLE admin; --""#)
        #expect(try PostgresProvisioner.identifier("zoë") == "\"zoë\"")
        for bad in ["", "a\u{0}b", String(repeating: "a", count: 64), String(repeating: "é", count: 32)] {
            #expect(throws: ExternalFailure.self) { try PostgresProvisioner.identifier(bad) }
        }
    }

    /// An activation's own login fits PostgreSQL's 63 bytes and keeps the account's characters
    /// whole, however long or non-ASCII the account is.
    @Test func ephemeralLoginNames() throws {
        #expect(PostgresProvisioner.ephemeralLogin(account: "alice", assignment: assignment) == "alice_00000000")
        for account in ["zoë.o'brien", String(repeating: "é", count: 40), String(repeating: "a", count: 80), "😀x"] {
            let login = PostgresProvisioner.ephemeralLogin(account: account, assignment: assignment)
            #expect(login.utf8.count <= 63, "\(login)")
            #expect(account.hasPrefix(String(login.dropLast(9))), "\(login)")
            #expect(try PostgresProvisioner.identifier(login).count > 2)
        }
    }

    /// Only connection, resource, shutdown and serialization failures (SQLSTATE classes 08, 53,
    /// 57, 40) are worth retrying; a refusal (no such role, no privilege) is permanent.
    @Test(arguments: [
        ("08006", true), ("40001", true), ("53300", true), ("57P01", true), ("42704", false), ("42501", false),
        ("28P01", false), ("", false),
    ])
    func postgresErrorClasses(state: String, transient: Bool) {
        #expect(PostgresProvisioner.isTransient(sqlState: state) == transient)
    }

    /// A sudo drop-in's name is `regent_` and 24 hex of SHA-256(account NUL rule): no path or dot
    /// from the rule reaches the file system, and sudo's own name rules (no `.`, no `~`) hold.
    @Test func sudoFileNames() {
        let name = SudoProvisioner.fileName(account: "alice", value: "ALL=(ALL) ALL")
        #expect(name == "regent_e0fcfb4fbcd2b3bb65d49992")
        let hostile = SudoProvisioner.fileName(account: "../../etc", value: "x.conf~")
        #expect(hostile.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" })
        #expect(hostile != name)
    }

    /// A sudo rule is one line for an account without spaces or comments.
    @Test func sudoRulesAreOneLine() throws {
        try SudoProvisioner.requireOneLine("alice", "ALL=(postgres) /usr/bin/psql")
        for (account, value) in [
            ("alice", "ALL\nbob ALL=(ALL) NOPASSWD: ALL"), ("alice bob", "ALL"), ("alice#", "ALL"), ("", "ALL"),
            ("alice", ""), ("alice", "ALL\r"),
        ] {
            #expect(throws: ExternalFailure.self) { try SudoProvisioner.requireOneLine(account, value) }
        }
    }

    /// One meaning for an answer, for grants and notifications alike: 2xx delivered; 408, 429,
    /// 5xx and no answer retried; anything else refused for good.
    @Test(arguments: [
        (200, "delivered"), (204, "delivered"), (408, "retry"), (429, "retry"), (500, "retry"), (503, "retry"),
        (0, "retry"), (400, "refused"), (401, "refused"), (404, "refused"), (301, "refused"),
    ])
    func webhookAnswers(status: Int, meaning: String) {
        let outcome = SignedWebhook.outcome(status: status, name: "hook")
        switch outcome {
        case .delivered: #expect(meaning == "delivered")
        case .retry: #expect(meaning == "retry")
        case .refused: #expect(meaning == "refused")
        }
    }

    /// The webhook signature is HMAC-SHA256 over "<seconds>.<body>", and the idempotency key is
    /// SHA-256 over event, assignment, account and value (vectors from Python's hmac and hashlib).
    @Test func webhookSignatureAndIdempotencyKey() throws {
        let signature = SignedWebhook.signature(
            body: Data(#"{"event":"grant"}"#.utf8), key: "webhook-secret",
            time: Date(timeIntervalSince1970: 1_700_000_000))
        #expect(signature == "t=1700000000,v1=441cd0610dfd3d94bdc702cc70d4b73f5278ed874cef284f7b4d3b87e77d7044")
        let target = try Target(id: Target.ID(UUID()), kind: .webhook, name: "hooks", scope: .root)
        let spec = GrantSpec(
            target: target, value: "orders_admin", account: "alice", assignmentId: assignment, requestId: nil,
            until: nil)
        #expect(
            WebhookProvisioner.idempotencyKey("grant", spec)
                == "d1c95039c8833a05cba12c2c2661ced97eabdc490464e9bfe5d486c9923d307e")
        #expect(WebhookProvisioner.idempotencyKey("revoke", spec) != WebhookProvisioner.idempotencyKey("grant", spec))
    }
}
