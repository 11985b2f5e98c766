import Foundation
import RegentCore

/// How each rule of DESIGN.md §3 is written in the policy editor and read back. An empty field
/// inherits; `any` sets an explicit "no restriction" over an inherited list; `unlimited` lifts an
/// inherited activation limit. Reading never half-applies: the first bad field throws and the
/// policy is not saved.
enum PolicyForm {
    static let dayNames = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]

    // MARK: Reading a posted form

    static func read(
        _ fields: FormFields, onto policy: Policy, principal: (String) async throws -> Principal.ID
    ) async throws -> Policy {
        var policy = policy
        policy.maximumDuration = try duration(fields, "maximumDuration")
        policy.requireJustification = try flag(fields, "requireJustification")
        policy.requireTicket = try flag(fields, "requireTicket")
        policy.requireMfa = try flag(fields, "requireMfa")
        policy.mfaFreshness = try duration(fields, "mfaFreshness")
        policy.approval = try await approval(fields, principal: principal)
        policy.networks = try fields.text("networks").map { text in
            text == "any"
                ? [] : try list(text).map { try NetworkRange(parsing: $0) }
        }
        policy.timeWindows = try fields.text("timeWindows").map { text in
            text == "any"
                ? []
                : try text.split(whereSeparator: \.isNewline).map {
                    try timeWindow(String($0).trimmingCharacters(in: .whitespaces))
                }
        }
        policy.maxActivations = try fields.text("maxActivations").map(activationCap)
        policy.eligibleExpiration = try expiration(fields, "eligibleExpiration")
        policy.activeExpiration = try expiration(fields, "activeExpiration")
        policy.activeRequireMfa = try flag(fields, "activeRequireMfa")
        policy.activeRequireJustification = try flag(fields, "activeRequireJustification")
        policy.notifications = try notifications(fields)
        try policy.validate()
        return policy
    }

    private static func duration(_ fields: FormFields, _ name: String) throws(RegentError) -> ISODuration? {
        guard let text = fields.text(name) else { return nil }
        return try ISODuration(parsing: text, field: name)
    }

    private static func flag(_ fields: FormFields, _ name: String) throws(RegentError) -> Bool? {
        switch fields[name] ?? "" {
        case "": nil
        case "true": true
        case "false": false
        default: throw .invalid(name, "choose inherit, yes or no")
        }
    }

    private static func list(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    private static func approval(
        _ fields: FormFields, principal: (String) async throws -> Principal.ID
    ) async throws -> Approval? {
        switch fields["approval.mode"] ?? "" {
        case "": return nil
        case "none": return Approval.none
        case "required": break
        default: throw RegentError.invalid("approval.mode", "choose inherit, not required or required")
        }
        var stages: [ApprovalStage] = []
        for number in 1...Approval.maximumStages {
            let prefix = "stage\(number)."
            guard let approvers = fields.text(prefix + "approvers") else { continue }
            var stage = ApprovalStage(approvers: try await list(approvers).asyncMap(principal))
            if let required = fields.text(prefix + "requiredApprovals") {
                guard let count = Int(required) else {
                    throw RegentError.invalid(prefix + "requiredApprovals", "a number of approvals")
                }
                stage.requiredApprovals = count
            }
            stage.timeout = try duration(fields, prefix + "timeout") ?? ApprovalStage.defaultTimeout
            if let escalationApprovers = fields.text(prefix + "escalationApprovers") {
                guard let after = try duration(fields, prefix + "escalationAfter") else {
                    throw RegentError.invalid(prefix + "escalationAfter", "say after how long the escalation starts")
                }
                stage.escalation = Escalation(
                    approvers: try await list(escalationApprovers).asyncMap(principal), after: after)
            }
            stages.append(stage)
        }
        guard !stages.isEmpty else {
            throw RegentError.invalid("stage1.approvers", "an approval that is required names approvers in stage 1")
        }
        return Approval(stages: stages)
    }

    /// `Mon-Fri 09:00-18:00 Europe/Paris`; days may be listed (`Mon,Wed,Sat-Sun`).
    static func timeWindow(_ text: String) throws(RegentError) -> TimeWindow {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        let times = parts.count == 3 ? parts[1].split(separator: "-").map(String.init) : []
        guard parts.count == 3, times.count == 2 else {
            throw .invalid(
                "timeWindows", "write a window as DAYS HH:MM-HH:MM ZONE, e.g. Mon-Fri 09:00-18:00 Europe/Paris")
        }
        var days: Set<Int> = []
        for item in parts[0].split(separator: ",") {
            let ends = try item.split(separator: "-").map { name throws(RegentError) -> Int in
                guard let index = dayNames.firstIndex(where: { $0.lowercased() == name.lowercased() }) else {
                    throw .invalid("timeWindows", "'\(name)' is not a day (Mon … Sun)")
                }
                return index + 1
            }
            guard let first = ends.first, let last = ends.last, ends.count <= 2, first <= last else {
                throw .invalid("timeWindows", "'\(item)' is not a day or a range of days such as Mon-Fri")
            }
            days.formUnion(first...last)
        }
        return try TimeWindow(days: days, start: times[0], end: times[1], timeZone: parts[2])
    }

    /// `3 per PT1H`, or `unlimited`.
    private static func activationCap(_ text: String) throws(RegentError) -> ActivationCap {
        if text == "unlimited" { return .unlimited }
        let parts = text.split(separator: " ").map(String.init)
        guard parts.count == 3, parts[1] == "per", let count = Int(parts[0]) else {
            throw .invalid("maxActivations", "write a limit as COUNT per DURATION, e.g. 3 per PT24H, or unlimited")
        }
        return .atMost(
            ActivationLimit(count: count, window: try ISODuration(parsing: parts[2], field: "maxActivations")))
    }

    private static func expiration(_ fields: FormFields, _ name: String) throws(RegentError) -> AssignmentExpiration? {
        let maximum = try duration(fields, name + ".maximum")
        switch fields[name + ".mode"] ?? "" {
        case "": return nil
        case "permanent": return AssignmentExpiration(allowPermanent: true, maximumDuration: maximum)
        case "bounded": return AssignmentExpiration(allowPermanent: false, maximumDuration: maximum)
        default: throw .invalid(name + ".mode", "choose inherit, permanent allowed or bounded")
        }
    }

    private static func notifications(_ fields: FormFields) throws(RegentError) -> [NotificationRule]? {
        guard fields["notifications.mode"] == "set" else { return nil }
        var rules: [NotificationRule] = []
        for event in NotificationRule.Event.allCases {
            for recipient in NotificationRule.Recipient.allCases {
                let name = "notify.\(event.rawValue).\(recipient.rawValue)"
                guard let level = NotificationRule.Level(rawValue: fields[name] ?? "") else {
                    throw .invalid(name, "choose none, critical or all")
                }
                rules.append(
                    NotificationRule(
                        event: event, recipient: recipient, level: level,
                        extraRecipients: list(fields[name + ".extra"] ?? "")))
            }
        }
        return rules
    }

    // MARK: Writing rules as the form shows them

    static func text(_ window: TimeWindow) -> String {
        let days = window.days.sorted()
        var runs: [String] = []
        var index = 0
        while index < days.count {
            var end = index
            while end + 1 < days.count && days[end + 1] == days[end] + 1 { end += 1 }
            let first = dayNames[days[index] - 1]
            runs.append(end == index ? first : "\(first)-\(dayNames[days[end] - 1])")
            index = end + 1
        }
        func clock(_ minute: Int) -> String {
            let hours = minute / 60 < 10 ? "0\(minute / 60)" : "\(minute / 60)"
            let minutes = minute % 60 < 10 ? "0\(minute % 60)" : "\(minute % 60)"
            return "\(hours):\(minutes)"
        }
        return
            "\(runs.joined(separator: ",")) \(clock(window.startMinute))-\(clock(window.endMinute)) \(window.timeZone)"
    }

    static func text(_ cap: ActivationCap) -> String {
        switch cap {
        case .unlimited: "unlimited"
        case .atMost(let limit): text(limit)
        }
    }

    static func text(_ limit: ActivationLimit) -> String { "\(limit.count) per \(limit.window)" }

    static func text(_ expiration: AssignmentExpiration) -> String {
        let maximum = expiration.maximumDuration.map { "at most \($0)" }
        return expiration.allowPermanent
            ? "permanent allowed" + (maximum.map { "; bounded ones \($0)" } ?? "") : maximum ?? "bounded"
    }

    static func text(_ approval: Approval, names: [Principal.ID: String]) -> String {
        guard approval.isRequired else { return "not required" }
        return approval.stages.enumerated().map { index, stage in
            var text =
                "stage \(index + 1): \(stage.requiredApprovals) of \(self.names(stage.approvers, names)) within \(stage.timeout)"
            if let escalation = stage.escalation {
                text += ", then also \(self.names(escalation.approvers, names)) after \(escalation.after)"
            }
            return text
        }.joined(separator: "; ")
    }

    static func names(_ ids: [Principal.ID], _ names: [Principal.ID: String]) -> String {
        ids.map { names[$0] ?? $0.description }.joined(separator: ", ")
    }
}
