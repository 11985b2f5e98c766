/// The rules a role has at one scope. Every field is optional: nil inherits the value from the
/// nearest ancestor scope that sets it (or the default), so a deeper policy overrides a shallower
/// one rule by rule. Use ``EffectivePolicy/resolve(_:at:)`` to get the rules that apply.
///
/// ```swift
/// var prod = Policy()
/// prod.maximumDuration = .hours(1)
/// prod.approval = Approval(stages: [ApprovalStage(approvers: [leadID])])
/// ```
public struct Policy: Hashable, Sendable, Codable {
    public var maximumDuration: ISODuration?
    public var requireJustification: Bool?
    public var requireTicket: Bool?
    public var requireMfa: Bool?
    public var mfaFreshness: ISODuration?
    public var approval: Approval?
    /// Allowed source networks; an empty list allows any.
    public var networks: [NetworkRange]?
    /// Allowed time windows; an empty list allows any time.
    public var timeWindows: [TimeWindow]?
    /// `.unlimited` lifts an inherited limit.
    public var maxActivations: ActivationCap?
    public var eligibleExpiration: AssignmentExpiration?
    public var activeExpiration: AssignmentExpiration?
    public var activeRequireMfa: Bool?
    public var activeRequireJustification: Bool?
    public var notifications: [NotificationRule]?

    public init() {}

    public static let activationDurationRange = ISODuration.minutes(5)...ISODuration.hours(24)
    public static let mfaFreshnessRange = ISODuration.minutes(1)...ISODuration.hours(24)
    public static let stageTimeoutRange = ISODuration.minutes(5)...ISODuration.days(30)

    /// The rules this policy sets, for showing where an effective rule comes from.
    public var setRules: [PolicyRule] {
        var rules: [PolicyRule] = []
        if maximumDuration != nil { rules.append(.maximumDuration) }
        if requireJustification != nil { rules.append(.requireJustification) }
        if requireTicket != nil { rules.append(.requireTicket) }
        if requireMfa != nil { rules.append(.requireMfa) }
        if mfaFreshness != nil { rules.append(.mfaFreshness) }
        if approval != nil { rules.append(.approval) }
        if networks != nil { rules.append(.networks) }
        if timeWindows != nil { rules.append(.timeWindows) }
        if maxActivations != nil { rules.append(.maxActivations) }
        if eligibleExpiration != nil { rules.append(.eligibleExpiration) }
        if activeExpiration != nil { rules.append(.activeExpiration) }
        if activeRequireMfa != nil { rules.append(.activeRequireMfa) }
        if activeRequireJustification != nil { rules.append(.activeRequireJustification) }
        if notifications != nil { rules.append(.notifications) }
        return rules
    }

    /// Refuses a policy that could not be enforced as written, naming the first bad field.
    public func validate() throws(RegentError) {
        if let maximumDuration, !Self.activationDurationRange.contains(maximumDuration) {
            throw .invalid("activation.maximumDuration", "the maximum activation is between 5 minutes and 24 hours")
        }
        if let mfaFreshness, !Self.mfaFreshnessRange.contains(mfaFreshness) {
            throw .invalid("activation.mfaFreshness", "MFA freshness is between 1 minute and 24 hours")
        }
        if let approval { try Self.validate(approval) }
        if let limit = maxActivations?.limit, limit.count < 1 || limit.window.seconds < 60 {
            throw .invalid(
                "activation.conditions.maxActivations", "a limit is at least 1 activation per at least 1 minute")
        }
        for (field, expiration) in [("eligibleAssignment", eligibleExpiration), ("activeAssignment", activeExpiration)]
        {
            guard let expiration else { continue }
            if !expiration.allowPermanent && expiration.maximumDuration == nil {
                throw .invalid(
                    "\(field).maximumDuration", "without permanent assignments a maximum duration is required")
            }
            if let maximum = expiration.maximumDuration, maximum < .minutes(5) {
                throw .invalid("\(field).maximumDuration", "a maximum assignment duration is at least 5 minutes")
            }
        }
    }

    private static func validate(_ approval: Approval) throws(RegentError) {
        guard approval.stages.count <= Approval.maximumStages else {
            throw .invalid("activation.approval.stages", "an approval has at most \(Approval.maximumStages) stages")
        }
        for (index, stage) in approval.stages.enumerated() {
            let field = "activation.approval.stages[\(index)]"
            guard !stage.approvers.isEmpty else {
                throw .invalid("\(field).approvers", "a stage names at least one approver")
            }
            guard Set(stage.approvers).count == stage.approvers.count else {
                throw .invalid("\(field).approvers", "an approver is named twice")
            }
            guard stage.requiredApprovals >= 1 && stage.requiredApprovals <= 10 else {
                throw .invalid("\(field).requiredApprovals", "a stage requires 1 to 10 approvals")
            }
            guard stageTimeoutRange.contains(stage.timeout) else {
                throw .invalid("\(field).timeout", "a stage times out after 5 minutes to 30 days")
            }
            if let escalation = stage.escalation {
                guard !escalation.approvers.isEmpty else {
                    throw .invalid("\(field).escalation.approvers", "an escalation names at least one approver")
                }
                guard escalation.after.seconds > 0 && escalation.after < stage.timeout else {
                    throw .invalid(
                        "\(field).escalation.after", "an escalation comes after a delay shorter than the stage timeout")
                }
            }
        }
    }
}
