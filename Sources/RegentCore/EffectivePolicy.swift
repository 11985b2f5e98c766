/// The rules that apply to a role at a scope after inheritance, with every value concrete and the
/// scope that set each rule (absent from `origins` means the default).
public struct EffectivePolicy: Hashable, Sendable {
    public var maximumDuration: ISODuration
    public var requireJustification: Bool
    public var requireTicket: Bool
    public var requireMfa: Bool
    public var mfaFreshness: ISODuration
    public var approval: Approval
    public var networks: [NetworkRange]
    public var timeWindows: [TimeWindow]
    public var maxActivations: ActivationLimit?
    public var eligibleExpiration: AssignmentExpiration
    public var activeExpiration: AssignmentExpiration
    public var activeRequireMfa: Bool
    public var activeRequireJustification: Bool
    public var notifications: [NotificationRule]
    public var origins: [PolicyRule: Scope] = [:]

    /// Secure defaults: activations need a justification and a fresh MFA and last at most 8 hours;
    /// eligibility may be permanent; active assignments end within 180 days.
    public static let defaults = EffectivePolicy(
        maximumDuration: .hours(8), requireJustification: true, requireTicket: false, requireMfa: true,
        mfaFreshness: .minutes(10), approval: .none, networks: [], timeWindows: [], maxActivations: nil,
        eligibleExpiration: AssignmentExpiration(allowPermanent: true, maximumDuration: nil),
        activeExpiration: AssignmentExpiration(allowPermanent: false, maximumDuration: .days(180)),
        activeRequireMfa: false, activeRequireJustification: true,
        notifications: NotificationRule.Event.allCases.flatMap { event in
            NotificationRule.Recipient.allCases.map { NotificationRule(event: event, recipient: $0, level: .all) }
        }
    )

    /// Overlays the policies whose scope covers `scope`, shallowest first, on `base`.
    public static func resolve(
        _ policies: [(scope: Scope, policy: Policy)], at scope: Scope, base: EffectivePolicy = .defaults
    ) -> EffectivePolicy {
        var result = base
        for (policyScope, policy) in policies.filter({ $0.scope.covers(scope) }).sorted(by: {
            $0.scope.depth < $1.scope.depth
        }) {
            result.overlay(policy, from: policyScope)
        }
        return result
    }

    private mutating func overlay(_ policy: Policy, from scope: Scope) {
        if let value = policy.maximumDuration { maximumDuration = value }
        if let value = policy.requireJustification { requireJustification = value }
        if let value = policy.requireTicket { requireTicket = value }
        if let value = policy.requireMfa { requireMfa = value }
        if let value = policy.mfaFreshness { mfaFreshness = value }
        if let value = policy.approval { approval = value }
        if let value = policy.networks { networks = value }
        if let value = policy.timeWindows { timeWindows = value }
        if let value = policy.maxActivations { maxActivations = value.limit }
        if let value = policy.eligibleExpiration { eligibleExpiration = value }
        if let value = policy.activeExpiration { activeExpiration = value }
        if let value = policy.activeRequireMfa { activeRequireMfa = value }
        if let value = policy.activeRequireJustification { activeRequireJustification = value }
        if let value = policy.notifications { notifications = value }
        for rule in policy.setRules { origins[rule] = scope }
    }
}
