import Foundation
import RegentAPI
import RegentCore
import RegentEngine

/// The policy's API shape (DESIGN.md §7: activation / conditions / approval / eligibleAssignment /
/// activeAssignment / notifications) to and from the domain's rule-by-rule `Policy`.
extension APIHandler {
    func policy(from body: Components.Schemas.PolicyBody, by actor: ActorContext) async throws -> Policy {
        try await Policy(body) { try await engine.directory.principal(named: $0, by: actor).id }
    }
}

extension Policy {
    /// The policy an API body (or a manifest's Policy document) describes; `principal` finds
    /// an approver by id or name.
    init(
        _ body: Components.Schemas.PolicyBody, principal: (String) async throws -> Principal.ID
    ) async throws {
        func principalIds(_ references: [String]) async throws -> [Principal.ID] {
            var ids: [Principal.ID] = []
            for reference in references { ids.append(try await principal(reference)) }
            return ids
        }
        var policy = Policy()
        if let activation = body.activation {
            policy.maximumDuration = try activation.maximumDuration.map {
                try ISODuration(parsing: $0, field: "activation.maximumDuration")
            }
            policy.requireJustification = activation.requireJustification
            policy.requireTicket = activation.requireTicket
            policy.requireMfa = activation.requireMfa
            policy.mfaFreshness = try activation.mfaFreshness.map {
                try ISODuration(parsing: $0, field: "activation.mfaFreshness")
            }
            if let approval = activation.approval {
                var stages: [ApprovalStage] = []
                for (index, stage) in approval.stages.enumerated() {
                    let field = "activation.approval.stages[\(index)]"
                    var escalation: Escalation?
                    if let body = stage.escalation {
                        escalation = Escalation(
                            approvers: try await principalIds(body.approvers),
                            after: try ISODuration(parsing: body.after, field: "\(field).escalation.after"))
                    }
                    stages.append(
                        ApprovalStage(
                            approvers: try await principalIds(stage.approvers),
                            requiredApprovals: stage.requiredApprovals ?? 1,
                            timeout: try stage.timeout.map { try ISODuration(parsing: $0, field: "\(field).timeout") }
                                ?? ApprovalStage.defaultTimeout,
                            escalation: escalation))
                }
                policy.approval = Approval(stages: stages)
            }
            if let conditions = activation.conditions {
                policy.networks = try conditions.networks.map {
                    try $0.map { try NetworkRange(parsing: $0, field: "activation.conditions.networks") }
                }
                policy.timeWindows = try conditions.timeWindows.map {
                    try $0.map {
                        try TimeWindow(days: Set($0.days), start: $0.start, end: $0.end, timeZone: $0.timeZone)
                    }
                }
                if let cap = conditions.maxActivations {
                    if cap.unlimited == true {
                        policy.maxActivations = .unlimited
                    } else if let count = cap.count, let window = cap.window {
                        policy.maxActivations = .atMost(
                            ActivationLimit(
                                count: count,
                                window: try ISODuration(
                                    parsing: window, field: "activation.conditions.maxActivations.window")))
                    } else {
                        throw APIProblem.invalid(
                            "activation.conditions.maxActivations", "give count and window, or unlimited: true")
                    }
                }
            }
        }
        if let eligible = body.eligibleAssignment {
            policy.eligibleExpiration = try Self.expiration(eligible, field: "eligibleAssignment")
        }
        if let active = body.activeAssignment {
            policy.activeExpiration = try Self.expiration(active, field: "activeAssignment")
            policy.activeRequireMfa = active.requireMfa
            policy.activeRequireJustification = active.requireJustification
        }
        policy.notifications = try body.notifications.map { rules in
            try rules.map { rule in
                guard let event = NotificationRule.Event(rawValue: rule.event.rawValue),
                    let recipient = NotificationRule.Recipient(rawValue: rule.recipient.rawValue),
                    let level = NotificationRule.Level(rawValue: rule.level.rawValue)
                else { throw APIProblem.invalid("notifications", "unknown notification setting") }
                return NotificationRule(
                    event: event, recipient: recipient, level: level, extraRecipients: rule.extraRecipients ?? [])
            }
        }
        self = policy
    }

    private static func expiration(_ body: Components.Schemas.ExpirationBody, field: String) throws
        -> AssignmentExpiration
    {
        AssignmentExpiration(
            allowPermanent: body.allowPermanent,
            maximumDuration: try body.maximumDuration.map {
                try ISODuration(parsing: $0, field: "\(field).maximumDuration")
            })
    }
}

extension Components.Schemas.PolicyBody {
    /// A stored policy: only the rules it sets, its approvers as `approver` names them (by id
    /// for the API, by name for a manifest).
    init(_ policy: Policy, approver: (Principal.ID) -> String = \.description) {
        let conditions = Components.Schemas.PolicyBody.ActivationPayload.ConditionsPayload(
            networks: policy.networks?.map(\.description), timeWindows: policy.timeWindows?.map(Self.window),
            maxActivations: policy.maxActivations.map(Self.cap))
        self.init(
            activation: .init(
                maximumDuration: policy.maximumDuration?.description, requireJustification: policy.requireJustification,
                requireTicket: policy.requireTicket, requireMfa: policy.requireMfa,
                mfaFreshness: policy.mfaFreshness?.description,
                approval: policy.approval.map { Self.approval($0, approver: approver) },
                conditions: [policy.networks != nil, policy.timeWindows != nil, policy.maxActivations != nil].contains(
                    true)
                    ? conditions : nil),
            eligibleAssignment: policy.eligibleExpiration.map {
                Self.expiration($0, requireMfa: nil, requireJustification: nil)
            },
            activeAssignment: (policy.activeExpiration != nil || policy.activeRequireMfa != nil
                || policy.activeRequireJustification != nil)
                ? Self.expiration(
                    policy.activeExpiration ?? EffectivePolicy.defaults.activeExpiration,
                    requireMfa: policy.activeRequireMfa,
                    requireJustification: policy.activeRequireJustification) : nil,
            notifications: policy.notifications?.map(Self.notification))
    }

    /// An effective policy: every rule, concrete.
    init(_ policy: EffectivePolicy) {
        self.init(
            activation: .init(
                maximumDuration: policy.maximumDuration.description, requireJustification: policy.requireJustification,
                requireTicket: policy.requireTicket, requireMfa: policy.requireMfa,
                mfaFreshness: policy.mfaFreshness.description,
                approval: Self.approval(policy.approval, approver: \.description),
                conditions: .init(
                    networks: policy.networks.map(\.description), timeWindows: policy.timeWindows.map(Self.window),
                    maxActivations: Self.cap(policy.maxActivations.map(ActivationCap.atMost) ?? .unlimited))),
            eligibleAssignment: Self.expiration(policy.eligibleExpiration, requireMfa: nil, requireJustification: nil),
            activeAssignment: Self.expiration(
                policy.activeExpiration, requireMfa: policy.activeRequireMfa,
                requireJustification: policy.activeRequireJustification),
            notifications: policy.notifications.map(Self.notification))
    }

    private static func approval(_ approval: Approval, approver: (Principal.ID) -> String)
        -> ActivationPayload.ApprovalPayload
    {
        .init(
            stages: approval.stages.map {
                .init(
                    approvers: $0.approvers.map(approver), requiredApprovals: $0.requiredApprovals,
                    timeout: $0.timeout.description,
                    escalation: $0.escalation.map {
                        .init(approvers: $0.approvers.map(approver), after: $0.after.description)
                    })
            })
    }

    private static func window(_ window: TimeWindow) -> Components.Schemas.TimeWindowBody {
        func clock(_ minute: Int) -> String { String(format: "%02d:%02d", minute / 60, minute % 60) }
        return .init(
            days: window.days.sorted(), start: clock(window.startMinute), end: clock(window.endMinute),
            timeZone: window.timeZone)
    }

    private static func cap(_ cap: ActivationCap) -> ActivationPayload.ConditionsPayload.MaxActivationsPayload {
        switch cap {
        case .unlimited: .init(unlimited: true)
        case .atMost(let limit): .init(count: limit.count, window: limit.window.description)
        }
    }

    private static func expiration(_ expiration: AssignmentExpiration, requireMfa: Bool?, requireJustification: Bool?)
        -> Components.Schemas.ExpirationBody
    {
        .init(
            allowPermanent: expiration.allowPermanent, maximumDuration: expiration.maximumDuration?.description,
            requireMfa: requireMfa, requireJustification: requireJustification)
    }

    private static func notification(_ rule: NotificationRule) -> Components.Schemas.NotificationBody {
        .init(
            event: .init(rawValue: rule.event.rawValue) ?? .activation,
            recipient: .init(rawValue: rule.recipient.rawValue) ?? .admins,
            level: .init(rawValue: rule.level.rawValue) ?? .all, extraRecipients: rule.extraRecipients)
    }
}
