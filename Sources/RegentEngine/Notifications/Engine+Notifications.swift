import Foundation
import RegentAudit
import RegentCore
import RegentStore

/// Queuing notifications. Each is written to the outbox in the transaction of the event it
/// reports (so a notification exists exactly when its event does), addressed by the role's
/// notification rules, and sent later by the ``Notifier``: a slow or absent mail server never
/// delays the request that caused it.
extension Engine {
    /// Queues the notices of one transaction, after its other effects so the states they
    /// describe are the saved ones; true when any was queued.
    func enqueue(_ notices: [Notice], in tx: StoreTransaction, now: Date) async throws -> Bool {
        guard configuration.notifications.hasChannel else { return false }
        var queued = false
        for notice in notices {
            guard let plan = try await plan(for: notice, in: tx) else { continue }
            try await enqueue(plan, in: tx, now: now)
            queued = true
        }
        return queued
    }

    /// One notification before addressing: its topic, the role and principal it is about, and the
    /// explicit approvers for an approval that is needed.
    struct NotificationPlan {
        var topic: NotificationTopic
        var key: String
        var principalId: Principal.ID?
        var roleId: Role.ID?
        var scope: Scope?
        var kind: Assignment.Kind = .active
        var isActivation = true
        var approvers: [Principal.ID]?
        /// Who is told regardless of any policy (reviewers, a review's creator), and extra addresses.
        var recipients: [Principal.ID]? = nil
        var addresses: [String] = []
        var subject: String
        var lines: [String]
        var link: String
    }

    /// The words of a notice, read from the saved state; nil when what it is about is gone.
    func plan(for notice: Notice, in tx: StoreTransaction) async throws -> NotificationPlan? {
        switch notice {
        case .approvalNeeded(let id, let stage, let approvers, let escalated, let deadline):
            guard let request = try await tx.request(id: id) else { return nil }
            return try await requestPlan(
                notice, request, title: "Approval needed", approvers: approvers,
                key: ":stage\(stage)\(escalated ? ":escalated" : "")", extra: ["Decide before: \(deadline.rfc3339)"],
                in: tx)
        case .requestApproved(let id):
            guard let request = try await tx.request(id: id) else { return nil }
            return try await requestPlan(notice, request, title: "Approved", in: tx)
        case .requestDenied(let id, let reason, let timedOut):
            guard let request = try await tx.request(id: id) else { return nil }
            return try await requestPlan(
                notice, request, title: timedOut ? "Timed out" : "Denied", extra: ["Reason: \(reason ?? "-")"], in: tx)
        case .activationStarted(let id), .activationEnded(let id), .assignmentCreated(let id),
            .assignmentRemoved(let id):
            guard let assignment = try await tx.assignment(id: id) else { return nil }
            return try await assignmentPlan(notice.topic, assignment, in: tx)
        case .reviewStarted(let id, let reviewers, let items), .reviewReminder(let id, let reviewers, let items):
            guard !reviewers.isEmpty, let instance = try await tx.reviewInstance(id: id),
                let definition = try await tx.reviewDefinition(id: instance.definitionId)
            else { return nil }
            return NotificationPlan(
                topic: notice.topic, key: "\(notice.topic.rawValue):\(instance.id)",
                recipients: reviewers.sorted { $0.description < $1.description },
                subject: "\(notice.topic == .reviewStarted ? "Review started" : "Reminder"): \(definition.name)",
                lines: ["Review: \(definition.name)", "Items: \(items)", "Ends: \(instance.end.rfc3339)"],
                link: "/reviews")
        case .reviewCompleted(let id, let denied):
            guard let instance = try await tx.reviewInstance(id: id),
                let definition = try await tx.reviewDefinition(id: instance.definitionId)
            else { return nil }
            return NotificationPlan(
                topic: .reviewCompleted, key: "reviewCompleted:\(instance.id)", recipients: [definition.createdBy],
                addresses: definition.completionRecipients, subject: "Review completed: \(definition.name)",
                lines: [
                    "Review: \(definition.name)", "Items: \(instance.items.count)", "Denied: \(denied)",
                    definition.autoApply ? "The results are applied." : "Apply the results in Regent.",
                ], link: "/admin/reviews")
        case .alertRaised(let rule):
            guard let alert = try await tx.alerts().first(where: { $0.rule == rule }) else { return nil }
            return NotificationPlan(
                topic: .alertRaised, key: "alertRaised:\(alert.rule.rawValue):\(alert.updatedAt.rfc3339)",
                subject: "Security alert: \(alert.rule.rawValue)",
                lines: alert.items.prefix(20).map { "- \($0.summary)" } + ["", "Fix: \(alert.rule.fix)"],
                link: "/alerts")
        }
    }

    func requestPlan(
        _ notice: Notice, _ request: RegentCore.Request, title: String, approvers: [Principal.ID]? = nil,
        key: String = "", extra: [String] = [], in tx: StoreTransaction
    ) async throws -> NotificationPlan {
        let who = try await tx.principal(id: request.principalId)?.name ?? "?"
        let role = try await tx.role(id: request.roleId)?.name ?? "?"
        var lines = [
            "Requester: \(who)", "Role: \(role)", "Scope: \(request.scope.path)",
            "Duration: \(request.duration?.description ?? "-")", "Justification: \(request.justification ?? "-")",
        ]
        if let ticket = request.ticket { lines.append("Ticket: \(ticket.system):\(ticket.number)") }
        let topic = notice.topic
        return NotificationPlan(
            topic: topic, key: "\(topic.rawValue):\(request.id)\(key)", principalId: request.principalId,
            roleId: request.roleId, scope: request.scope, approvers: approvers,
            subject: "\(title): \(who) → \(role) at \(request.scope.path)", lines: lines + extra,
            link: topic == .approvalNeeded ? "/approvals" : "/roles")
    }

    func assignmentPlan(_ topic: NotificationTopic, _ assignment: Assignment, in tx: StoreTransaction)
        async throws -> NotificationPlan
    {
        let who = try await tx.principal(id: assignment.principalId)?.name ?? "?"
        let role = try await tx.role(id: assignment.roleId)?.name ?? "?"
        let title: String =
            switch topic {
            case .activationStarted: "Active"
            case .activationEnded: "Ended"
            case .assignmentCreated: "Assigned"
            default: "Assignment ended"
            }
        return NotificationPlan(
            topic: topic, key: "\(topic.rawValue):\(assignment.id)", principalId: assignment.principalId,
            roleId: assignment.roleId, scope: assignment.scope, kind: assignment.kind,
            isActivation: assignment.isActivation,
            subject: "\(title): \(who) → \(role) at \(assignment.scope.path)",
            lines: [
                "Principal: \(who)", "Role: \(role)", "Scope: \(assignment.scope.path)",
                "Kind: \(assignment.kind.rawValue)", "Until: \(assignment.end?.rfc3339 ?? "permanent")",
            ] + (assignment.endReason.map { ["Why it ended: \($0.rawValue)"] } ?? []),
            link: "/roles")
    }

    /// Addresses the plan from the role's effective notification rules (alerts go to Regent's
    /// administrators), honours opt-outs of non-critical mail, and queues one email per address
    /// and one message per configured webhook.
    func enqueue(_ plan: NotificationPlan, in tx: StoreTransaction, now: Date) async throws {
        let graph = try await tx.membershipGraph()
        var principals: Set<Principal.ID> = []
        var addresses: Set<String> = []
        var sendsAtAll = plan.topic.recipients.isEmpty
        if let explicit = plan.recipients {
            principals = Set(explicit)
            addresses = Set(plan.addresses)
        } else if plan.topic.recipients.isEmpty {
            principals = try await holders(of: .manageAssignments, in: tx, now: now, graph: graph)
        } else if let roleId = plan.roleId, let scope = plan.scope,
            let event = plan.topic.policyEvent(kind: plan.kind, isActivation: plan.isActivation)
        {
            let effective = EffectivePolicy.resolve(try await tx.policies(role: roleId), at: scope)
            for recipient in plan.topic.recipients {
                guard
                    let rule = effective.notifications.first(where: { $0.event == event && $0.recipient == recipient }),
                    rule.level.sends(plan.topic)
                else { continue }
                sendsAtAll = true
                addresses.formUnion(rule.extraRecipients)
                switch recipient {
                case .requester: principals.formUnion(plan.principalId.map { [$0] } ?? [])
                case .admins:
                    principals.formUnion(try await holders(of: .manageAssignments, in: tx, now: now, graph: graph))
                case .approvers:
                    let approvers = plan.approvers ?? effective.approval.stages.flatMap(\.approvers)
                    principals.formUnion(approvers.filter { $0 != plan.principalId })
                }
            }
        }
        guard sendsAtAll else { return }
        let settings = configuration.notifications
        let link = (settings.portalURL ?? "") + plan.link
        let body = (plan.lines + ["", link]).joined(separator: "\n")
        if settings.smtp != nil {
            for id in principals {
                for user in [id] + graph.transitiveMembers(of: id) {
                    guard let principal = try await tx.principal(id: user), principal.isEnabled,
                        principal.kind != .group, let email = principal.email, !email.isEmpty
                    else { continue }
                    if !plan.topic.isCritical, try await !tx.wantsNonCriticalEmail(user) { continue }
                    addresses.insert(email)
                }
            }
            for address in addresses {
                try await tx.enqueueNotification(
                    OutboxMessage(
                        dedupeKey: "\(plan.key):email:\(address)", channel: .email, recipient: address,
                        topic: plan.topic, subject: "[Regent] \(plan.subject)", body: body, payload: "{}", dueAt: now),
                    now: now)
            }
        }
        for webhook in settings.webhooks {
            let payload = try webhookPayload(plan, body: body, link: link, slack: webhook == "slack", now: now)
            try await tx.enqueueNotification(
                OutboxMessage(
                    dedupeKey: "\(plan.key):\(webhook)", channel: .webhook, recipient: webhook, topic: plan.topic,
                    subject: plan.subject, body: body, payload: payload, dueAt: now),
                now: now)
        }
    }

    func webhookPayload(_ plan: NotificationPlan, body: String, link: String, slack: Bool, now: Date) throws
        -> String
    {
        let document: [String: String] =
            slack
            ? ["text": "*\(plan.subject)*\n\(body)"]
            : [
                "topic": plan.topic.rawValue, "critical": "\(plan.topic.isCritical)", "subject": plan.subject,
                "text": body, "link": link, "time": now.rfc3339, "principalId": plan.principalId?.description ?? "",
                "roleId": plan.roleId?.description ?? "", "scope": plan.scope?.path ?? "", "key": plan.key,
            ]
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(document), as: UTF8.self)
    }
}
