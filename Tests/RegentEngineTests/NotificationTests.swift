import Foundation
import RegentAudit
import RegentConnectors
import RegentCore
import RegentEngine
import RegentStore
import RegentTestSupport
import Synchronization
import Testing

/// A transport that records what it was given and fails on demand.
final class RecordingTransport: NotificationTransport {
    let delivered = Mutex<[OutboxMessage]>([])
    let failure = Mutex<ExternalFailure?>(nil)

    func deliver(_ message: OutboxMessage) async throws(ExternalFailure) {
        if let failure = failure.withLock({ $0 }) { throw failure }
        delivered.withLock { $0.append(message) }
    }

    var emails: [(to: String, subject: String)] {
        delivered.withLock { $0.filter { $0.channel == .email }.map { ($0.recipient, $0.subject) } }
    }
}

/// Notifications through the outbox with a fake clock: who gets what under the role's rules,
/// opt-outs, deduplication, retries that lose nothing, and reminders before an assignment ends.
struct NotificationTests {
    static let configuration = EngineConfiguration(
        checkpointEvery: 10,
        notifications: NotificationSettings(
            portalURL: "https://regent.example",
            smtp: SMTPSettings(host: "127.0.0.1", port: 25, from: "regent@example.com"),
            webhookURL: URL(string: "http://127.0.0.1:9/hook")))

    func user(_ h: Harness, _ name: String) async throws -> ActorContext {
        let principal = try await h.engine.directory.createPrincipal(
            kind: .user, name: name, displayName: nil, email: "\(name)@example.com", password: nil, by: h.admin)
        return ActorContext(principalId: principal.id, name: name, mfaVerifiedAt: h.clock.now())
    }

    /// The notifier sleeps until the outbox's next due time: now for a new message, nothing once
    /// all are sent, the retry time after a failure.
    @Test func nextDueFollowsTheOutbox() async throws {
        try await withHarness(configuration: Self.configuration) { h in
            let transport = RecordingTransport()
            try await h.engine.notifications.deliverDueNotifications(using: transport)
            #expect(try await h.engine.notifications.nextNotificationDue() == nil)
            let alice = try await user(h, "alice")
            let dba = try await h.role("dba")
            try await h.assign(alice.principalId, dba)
            #expect(try await h.engine.notifications.nextNotificationDue() == h.clock.now())
            transport.failure.withLock { $0 = ExternalFailure(transient: true, "down") }
            try await h.engine.notifications.deliverDueNotifications(using: transport)
            let retry = try #require(try await h.engine.notifications.nextNotificationDue())
            #expect(retry > h.clock.now())
            h.clock.advance(by: retry.timeIntervalSince(h.clock.now()))
            transport.failure.withLock { $0 = nil }
            try await h.engine.notifications.deliverDueNotifications(using: transport)
            #expect(try await h.engine.notifications.nextNotificationDue() == nil)
            #expect(!transport.delivered.withLock { $0 }.isEmpty)
        }
    }

    /// alice asks, bob (the approver) is told with a link to his approvals, alice is told of the
    /// approval and of the start; each message once, the webhook gets each event once.
    @Test func activationWithApproval() async throws {
        try await withHarness(configuration: Self.configuration) { h in
            let alice = try await user(h, "alice")
            let bob = try await user(h, "bob")
            let dba = try await h.role("dba") {
                $0.approval = Approval(stages: [ApprovalStage(approvers: [bob.principalId])])
            }
            try await h.assign(alice.principalId, dba)
            let transport = RecordingTransport()
            try await h.engine.notifications.deliverDueNotifications(using: transport)
            transport.delivered.withLock { $0.removeAll() }
            let request = try await h.activate(alice, dba)
            try await h.engine.notifications.deliverDueNotifications(using: transport)
            #expect(transport.emails.map(\.to) == ["bob@example.com"])
            let approval = try #require(transport.delivered.withLock { $0.first { $0.channel == .email } })
            #expect(approval.subject == "[Regent] Approval needed: alice → dba at /")
            #expect(
                approval.body.contains("Justification: INC-42")
                    && approval.body.hasSuffix("https://regent.example/approvals"))
            let webhook = try #require(transport.delivered.withLock { $0.first { $0.channel == .webhook } })
            #expect(webhook.payload.contains("\"topic\":\"approvalNeeded\""))
            _ = try await h.engine.requests.approve(request.id, by: bob, justification: "ok")
            try await h.engine.provisioning.runDueJobs()
            try await h.engine.notifications.deliverDueNotifications(using: transport)
            let toAlice = transport.emails.filter { $0.to == "alice@example.com" }.map(\.subject)
            #expect(toAlice.sorted() == ["[Regent] Active: alice → dba at /", "[Regent] Approved: alice → dba at /"])
            // Nothing is sent twice, and nothing is left.
            #expect(try await h.engine.notifications.deliverDueNotifications(using: transport) == 0)
            let keys = transport.delivered.withLock { $0.map(\.dedupeKey) }
            #expect(Set(keys).count == keys.count)
        }
    }

    /// The role's rules decide: requester at `critical` gets the denial but not the approval;
    /// an opt-out drops non-critical mail only; extra recipients are added.
    @Test func levelsAndOptOut() async throws {
        try await withHarness(configuration: Self.configuration) { h in
            let alice = try await user(h, "alice")
            let bob = try await user(h, "bob")
            let dba = try await h.role("dba") { policy in
                policy.approval = Approval(stages: [ApprovalStage(approvers: [bob.principalId])])
                policy.notifications =
                    NotificationRule.Event.allCases.flatMap { event in
                        NotificationRule.Recipient.allCases.map {
                            NotificationRule(event: event, recipient: $0, level: .all)
                        }
                    }.map { rule in
                        var rule = rule
                        if rule.event == .activation && rule.recipient == .requester { rule.level = .critical }
                        if rule.event == .activation && rule.recipient == .approvers {
                            rule.extraRecipients = ["soc@example.com"]
                        }
                        return rule
                    }
            }
            try await h.assign(alice.principalId, dba)
            let transport = RecordingTransport()
            let approved = try await h.activate(alice, dba)
            _ = try await h.engine.requests.approve(approved.id, by: bob, justification: "ok")
            try await h.engine.provisioning.runDueJobs()
            h.clock.advance(by: 1800)
            try await h.engine.provisioning.runDueJobs()
            let denied = try await h.activate(alice, dba)
            _ = try await h.engine.requests.deny(denied.id, by: bob, justification: "not now")
            try await h.engine.notifications.deliverDueNotifications(using: transport)
            let toAlice = transport.emails.filter { $0.to == "alice@example.com" }.map(\.subject)
            #expect(toAlice == ["[Regent] Assigned: alice → dba at /", "[Regent] Denied: alice → dba at /"])
            #expect(transport.emails.filter { $0.to == "soc@example.com" }.count == 4)  // 2 approvals needed, start, end

            try await h.engine.notifications.setWantsNonCriticalEmail(false, by: bob)
            #expect(try await h.engine.notifications.wantsNonCriticalEmail(bob) == false)
            transport.delivered.withLock { $0.removeAll() }
            let again = try await h.activate(alice, dba)
            _ = try await h.engine.requests.approve(again.id, by: bob, justification: "ok")
            try await h.engine.provisioning.runDueJobs()
            try await h.engine.notifications.deliverDueNotifications(using: transport)
            // bob still gets the approval request (critical) but not the start (non-critical).
            #expect(
                transport.emails.filter { $0.to == "bob@example.com" }.map(\.subject) == [
                    "[Regent] Approval needed: alice → dba at /"
                ])
        }
    }

    /// A server that is down delays mail: each attempt waits longer (at most five minutes), and
    /// the message goes out once the server is back. A permanent refusal is given up and audited.
    @Test func retriesLoseNothing() async throws {
        try await withHarness(configuration: Self.configuration) { h in
            let carol = try await user(h, "carol")
            let ops = try await h.role("ops")
            let transport = RecordingTransport()
            transport.failure.withLock { $0 = ExternalFailure(transient: true, "connection refused") }
            try await h.assign(carol.principalId, ops, duration: .days(30))
            #expect(try await h.engine.notifications.deliverDueNotifications(using: transport) == 0)
            var waited: TimeInterval = 0
            for _ in 0..<10 {
                h.clock.advance(by: 1)
                waited += 1
                try await h.engine.notifications.deliverDueNotifications(using: transport)
            }
            let pending = try await h.store.transaction { try await $0.notifications() }
            #expect(pending.allSatisfy { $0.sentAt == nil && $0.lastError == "connection refused" })
            #expect(pending.allSatisfy { $0.attempts >= 2 && $0.attempts < 10 })
            transport.failure.withLock { $0 = nil }
            h.clock.advance(by: 300)
            try await h.engine.notifications.deliverDueNotifications(using: transport)
            #expect(transport.emails.map(\.to) == ["carol@example.com"])
            #expect(try await h.store.transaction { try await $0.notifications() }.allSatisfy { $0.sentAt != nil })

            transport.failure.withLock { $0 = ExternalFailure(transient: false, "550 no such user") }
            try await h.assign(carol.principalId, try await h.role("audit-lead"), duration: .days(30))
            try await h.engine.notifications.deliverDueNotifications(using: transport)
            h.clock.advance(by: 3600)
            #expect(try await h.engine.notifications.deliverDueNotifications(using: transport) == 0)
            let failed = try await h.auditEvents().filter { $0.action == "notification.failed" }
            #expect(failed.count == 2 && failed.allSatisfy { $0.reason == "550 no such user" })
        }
    }

    /// Reminders 14 days and 1 day before an assignment ends, each queued once however often the
    /// scan runs; alerts go to Regent's administrators.
    @Test func remindersAndAlerts() async throws {
        try await withHarness(configuration: Self.configuration) { h in
            let carol = try await user(h, "carol")
            let dave = try await user(h, "dave")
            let adminRole = try await h.engine.directory.role(named: "regent-admin")
            try await h.assign(dave.principalId, adminRole, kind: .active, duration: .days(100))
            try await h.assign(carol.principalId, try await h.role("ops"), duration: .days(30))
            let transport = RecordingTransport()
            try await h.engine.notifications.deliverDueNotifications(using: transport)
            transport.delivered.withLock { $0.removeAll() }
            func reminders() -> [String] {
                transport.emails.filter { $0.subject.contains("Expires") && $0.to == "carol@example.com" }.map(
                    \.subject)
            }
            h.clock.advance(by: 15 * 86_400)
            try await h.engine.notifications.queueExpiryReminders()
            try await h.engine.notifications.deliverDueNotifications(using: transport)
            #expect(reminders().isEmpty)
            h.clock.advance(by: 86_400)
            for _ in 0..<3 { try await h.engine.notifications.queueExpiryReminders() }
            try await h.engine.notifications.deliverDueNotifications(using: transport)
            #expect(reminders() == ["[Regent] Expires within 14 days: carol → ops at /"])
            h.clock.advance(by: 13 * 86_400 + 1)
            try await h.engine.notifications.queueExpiryReminders()
            try await h.engine.notifications.deliverDueNotifications(using: transport)
            #expect(reminders().last == "[Regent] Expires within a day: carol → ops at /")
            #expect(reminders().count == 2)

            try await h.engine.governance.evaluateAlerts()
            try await h.engine.notifications.deliverDueNotifications(using: transport)
            let alerts = transport.emails.filter { $0.subject.hasPrefix("[Regent] Security alert") }
            #expect(alerts.map(\.to) == ["dave@example.com"])
        }
    }

    /// A review tells its reviewers when it starts, reminds those with undecided items at
    /// mid-period, and tells its creator and the extra recipients when it completes.
    @Test func reviewNotifications() async throws {
        try await withHarness(configuration: Self.configuration) { h in
            let alice = try await user(h, "alice")
            let bob = try await user(h, "bob")
            let carol = try await user(h, "carol")
            let owner = try await user(h, "owner")
            let ops = try await h.role("ops")
            try await h.assign(alice.principalId, ops)
            try await h.assign(bob.principalId, ops)
            let review = try ReviewDefinition(
                id: ReviewDefinition.ID(UUID()), name: "ops review", roleIds: [ops.id], scope: .root,
                kinds: [.eligible], inactiveDays: nil, reviewers: .principals([carol.principalId]),
                recurrence: .once, start: h.clock.now(), duration: .days(4), ending: .never,
                justificationRequired: false, defaultDecision: .noChange, autoApply: false, reminders: true,
                completionRecipients: ["audit@example.com"], createdBy: owner.principalId, createdAt: h.clock.now())
            let transport = RecordingTransport()
            try await h.engine.notifications.deliverDueNotifications(using: transport)
            transport.delivered.withLock { $0.removeAll() }
            _ = try await h.engine.governance.createReview(review, by: h.admin)
            try await h.engine.notifications.deliverDueNotifications(using: transport)
            #expect(transport.emails.map(\.to) == ["carol@example.com"])
            #expect(transport.emails.first?.subject == "[Regent] Review started: ops review")
            h.clock.advance(by: 2 * 86_400)
            for _ in 0..<2 { try await h.engine.governance.runReviews() }
            try await h.engine.notifications.deliverDueNotifications(using: transport)
            #expect(transport.emails.filter { $0.subject.contains("Reminder") }.map(\.to) == ["carol@example.com"])
            h.clock.advance(by: 2 * 86_400)
            try await h.engine.governance.runReviews()
            try await h.engine.notifications.deliverDueNotifications(using: transport)
            let completed = transport.emails.filter { $0.subject == "[Regent] Review completed: ops review" }
            #expect(Set(completed.map(\.to)) == ["owner@example.com", "audit@example.com"])
        }
    }
}
