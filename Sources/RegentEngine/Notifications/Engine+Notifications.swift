import Foundation
import RegentAudit
public import RegentCore
import RegentStore

/// Queuing notifications. Each is written to the outbox in the transaction of the event it
/// reports (so a notification exists exactly when its event does), addressed by the role's
/// notification rules, and sent later by the ``Notifier``: a slow or absent mail server never
/// delays the request that caused it.
extension Engine {
    /// The events of one transaction that someone is told about; true when any was queued.
    func enqueueNotifications(for notes: [AuditNote], context: AuditContext, in tx: StoreTransaction, now: Date)
        async throws -> Bool
    {
        guard configuration.notifications.hasChannel else { return false }
        var queued = false
        for note in notes {
            guard let plan = try await notificationPlan(for: note, context: context, in: tx) else { continue }
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

    /// The audit actions anyone is told about; every other event costs nothing here.
    private static let notifiedActions: Set<String> = [
        "request.created", "request.stage_approved", "request.escalated", "request.approved", "request.denied",
        "request.timed_out", "assignment.activated", "assignment.created", "assignment.expired",
        "assignment.deactivated", "assignment.removed", "assignment.revoked",
    ]

    private func notificationPlan(for note: AuditNote, context: AuditContext, in tx: StoreTransaction) async throws
        -> NotificationPlan?
    {
        guard Self.notifiedActions.contains(note.action) else { return nil }
        let requestId = note.details["requestId"].flatMap(RegentCore.Request.ID.init)
        let assignmentId = note.details["assignmentId"].flatMap(Assignment.ID.init)
        if let requestId, let request = try await tx.request(id: requestId) {
            return try await requestPlan(note, request, in: tx)
        }
        if let assignmentId, let assignment = try await tx.assignment(id: assignmentId) {
            return try await assignmentPlan(note, assignment, in: tx)
        }
        return nil
    }

    private func requestPlan(_ note: AuditNote, _ request: RegentCore.Request, in tx: StoreTransaction) async throws
        -> NotificationPlan?
    {
        guard request.action == .selfActivate || request.action == .selfExtend || request.action == .selfRenew else {
            return nil
        }
        // What the event is, decided before any read: most request events tell no one.
        let topic: NotificationTopic
        var extra: [String] = []
        var approvers: [Principal.ID]?
        var stageKey = ""
        switch note.action {
        case "request.created", "request.stage_approved", "request.escalated":
            guard request.status == .pendingApproval, let approval = request.approval else { return nil }
            let escalated = note.action == "request.escalated"
            topic = .approvalNeeded
            approvers = escalated ? approval.stage.escalation?.approvers ?? [] : approval.stage.approvers
            stageKey = ":stage\(approval.currentStage)\(escalated ? ":escalated" : "")"
            extra = ["Decide before: \(approval.deadline.rfc3339)"]
        case "request.approved":
            // Approved without anyone deciding: the requester already has the answer.
            guard request.approval != nil else { return nil }
            topic = .requestApproved
        case "request.denied" where note.details["approverId"] != nil, "request.timed_out":
            topic = .requestDenied
            extra = ["Reason: \(note.reason ?? "-")"]
        default:
            return nil
        }
        let who = try await tx.principal(id: request.principalId)?.name ?? "?"
        let role = try await tx.role(id: request.roleId)?.name ?? "?"
        let title: String =
            switch topic {
            case .approvalNeeded: "Approval needed"
            case .requestApproved: "Approved"
            default: note.action == "request.timed_out" ? "Timed out" : "Denied"
            }
        var lines = [
            "Requester: \(who)", "Role: \(role)", "Scope: \(request.scope.path)",
            "Duration: \(request.duration?.description ?? "-")", "Justification: \(request.justification ?? "-")",
        ]
        if let ticket = request.ticket { lines.append("Ticket: \(ticket.system):\(ticket.number)") }
        return NotificationPlan(
            topic: topic, key: "\(topic.rawValue):\(request.id)\(stageKey)", principalId: request.principalId,
            roleId: request.roleId, scope: request.scope, approvers: approvers,
            subject: "\(title): \(who) → \(role) at \(request.scope.path)", lines: lines + extra,
            link: topic == .approvalNeeded ? "/approvals" : "/roles")
    }

    private func assignmentPlan(_ note: AuditNote, _ assignment: Assignment, in tx: StoreTransaction) async throws
        -> NotificationPlan?
    {
        let ended = ["assignment.expired", "assignment.deactivated", "assignment.removed", "assignment.revoked"]
        let topic: NotificationTopic
        switch note.action {
        // An activation starts when it is created in force, or when its scheduled start comes.
        case "assignment.activated" where assignment.isActivation: topic = .activationStarted
        case "assignment.created" where assignment.isActivation && assignment.state == .active:
            topic = .activationStarted
        case "assignment.created" where !assignment.isActivation: topic = .assignmentCreated
        case let action where ended.contains(action):
            topic = assignment.isActivation ? .activationEnded : .assignmentRemoved
        default: return nil
        }
        let who = try await tx.principal(id: assignment.principalId)?.name ?? "?"
        let role = try await tx.role(id: assignment.roleId)?.name ?? "?"
        let titles: [NotificationTopic: String] = [
            .activationStarted: "Active", .activationEnded: "Ended", .assignmentCreated: "Assigned",
            .assignmentRemoved: "Assignment ended",
        ]
        return NotificationPlan(
            topic: topic, key: "\(topic.rawValue):\(assignment.id)", principalId: assignment.principalId,
            roleId: assignment.roleId, scope: assignment.scope, kind: assignment.kind,
            isActivation: assignment.isActivation,
            subject: "\(titles[topic] ?? topic.rawValue): \(who) → \(role) at \(assignment.scope.path)",
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

    private func webhookPayload(_ plan: NotificationPlan, body: String, link: String, slack: Bool, now: Date) throws
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
