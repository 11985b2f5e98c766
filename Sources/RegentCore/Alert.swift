public import Foundation

/// The security alerts Regent raises about how privileged access is held and used. The raw
/// values are stable: they name the alert in the API, the CLI and the audit log.
public enum AlertRule: String, Sendable, Codable, CaseIterable, Comparable {
    /// More `regent-admin` holders than the count and share thresholds allow.
    case tooManyAdmins
    /// The reconciler found access on a target that no assignment explains.
    case roleAssignedOutsideRegent
    /// One principal activated one role at least `count` times within `window`.
    case frequentActivation
    /// An eligibility older than `window` that was not activated within it.
    case unusedEligibility
    /// A role whose policy lets it be activated without a fresh MFA.
    case activationWithoutMfa
    /// A permanent active assignment (roles named in `names` are exempt, e.g. break-glass).
    case permanentActiveAssignment
    /// A revocation that keeps failing on its target.
    case revocationFailing
    /// One of the break-glass accounts named in `names` signed in within `window`.
    case breakGlassUsed

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (allCases.firstIndex(of: lhs) ?? 0) < (allCases.firstIndex(of: rhs) ?? 0)
    }

    /// What to do about it, shown with the alert.
    public var fix: String {
        switch self {
        case .tooManyAdmins:
            "Make regent-admin eligible rather than active for those who do not need it all the time, or remove it."
        case .roleAssignedOutsideRegent:
            "Regent revoked the access; find who granted it on the target and grant through Regent instead."
        case .frequentActivation:
            "Ask why the role is needed so often; a longer maximum duration or a different role may fit better."
        case .unusedEligibility:
            "Remove the eligibility, or review it in an access review."
        case .activationWithoutMfa:
            "Set \"Fresh MFA required\" in the role's policy."
        case .permanentActiveAssignment:
            "Make the assignment eligible, or give it an end date."
        case .revocationFailing:
            "Restore the target's connection; Regent keeps retrying and the check already answers no."
        case .breakGlassUsed:
            "Confirm the emergency with the person who used it, then rotate the account's credentials."
        }
    }
}

/// A rule's switch and thresholds. Only the fields a rule reads matter; ``defaults(for:)`` fills
/// the ones it needs.
public struct AlertSettings: Hashable, Sendable, Codable {
    public var enabled: Bool
    public var count: Int?
    public var percent: Int?
    public var window: ISODuration?
    public var names: [String]

    public init(
        enabled: Bool = true, count: Int? = nil, percent: Int? = nil, window: ISODuration? = nil, names: [String] = []
    ) {
        self.enabled = enabled
        self.count = count
        self.percent = percent
        self.window = window
        self.names = names
    }

    public static func defaults(for rule: AlertRule) -> AlertSettings {
        switch rule {
        case .tooManyAdmins: AlertSettings(count: 3, percent: 10)
        case .roleAssignedOutsideRegent: AlertSettings(window: .days(7))
        case .frequentActivation: AlertSettings(count: 5, window: .hours(24))
        case .unusedEligibility: AlertSettings(window: .days(30))
        case .breakGlassUsed: AlertSettings(window: .days(7))
        case .activationWithoutMfa, .permanentActiveAssignment, .revocationFailing: AlertSettings()
        }
    }

    /// These settings with every threshold the rule needs and that was left out set to its default.
    public func filled(for rule: AlertRule) -> AlertSettings {
        let defaults = Self.defaults(for: rule)
        var filled = self
        if defaults.count != nil && count == nil { filled.count = defaults.count }
        if defaults.percent != nil && percent == nil { filled.percent = defaults.percent }
        if defaults.window != nil && window == nil { filled.window = defaults.window }
        return filled
    }

    /// Refuses thresholds that would make the rule meaningless, naming the field.
    public func validate(for rule: AlertRule) throws(RegentError) {
        let needed = Self.defaults(for: rule)
        if needed.count != nil && !(1...100_000).contains(count ?? 0) {
            throw .invalid("count", "\(rule.rawValue) needs a count of at least 1")
        }
        if needed.percent != nil && !(0...100).contains(percent ?? -1) {
            throw .invalid("percent", "\(rule.rawValue) needs a percentage from 0 to 100")
        }
        if needed.window != nil
            && !(ISODuration.minutes(1)...ISODuration.days(3650)).contains(window ?? .init(seconds: 0))
        {
            throw .invalid("window", "\(rule.rawValue) needs a window of at least a minute")
        }
        if names.count > 200 || names.contains(where: { $0.isEmpty || $0.count > 200 }) {
            throw .invalid("names", "at most 200 names, none empty")
        }
    }
}

/// One thing an alert is about. `key` identifies it across evaluations, so a dismissed alert
/// reopens when something new appears rather than when the same thing is seen again.
public struct AlertItem: Hashable, Sendable, Codable {
    public var key: String
    public var summary: String
    public var principalId: Principal.ID?
    public var roleId: Role.ID?

    public init(key: String, summary: String, principalId: Principal.ID? = nil, roleId: Role.ID? = nil) {
        self.key = key
        self.summary = summary
        self.principalId = principalId
        self.roleId = roleId
    }
}

/// An alert's life: open while its condition holds; dismissed (with a reason) until something
/// new appears; resolved when the condition no longer holds.
public struct Alert: Hashable, Sendable, Codable {
    public enum State: String, Sendable, Codable, CaseIterable { case open, dismissed, resolved }

    public struct Dismissal: Hashable, Sendable, Codable {
        public var by: Principal.ID
        public var reason: String
        public var at: Date
        /// The items seen when it was dismissed.
        public var keys: Set<String>

        public init(by: Principal.ID, reason: String, at: Date, keys: Set<String>) {
            self.by = by
            self.reason = reason
            self.at = at
            self.keys = keys
        }
    }

    /// What an evaluation did to an alert, for the audit log.
    public enum Change: String, Sendable {
        case raised, reopened, resolved

        public var auditAction: AuditAction {
            switch self {
            case .raised: .alertRaised
            case .reopened: .alertReopened
            case .resolved: .alertResolved
            }
        }
    }

    public let rule: AlertRule
    public private(set) var state: State
    public private(set) var items: [AlertItem]
    public private(set) var raisedAt: Date
    public private(set) var updatedAt: Date
    public private(set) var dismissal: Dismissal?

    public init(
        rule: AlertRule, state: State, items: [AlertItem], raisedAt: Date, updatedAt: Date, dismissal: Dismissal?
    ) {
        self.rule = rule
        self.state = state
        self.items = items
        self.raisedAt = raisedAt
        self.updatedAt = updatedAt
        self.dismissal = dismissal
    }

    /// The alert after an evaluation found `items` (empty: the condition does not hold), and what
    /// changed. `existing` is nil when the rule never fired.
    public static func evaluate(_ existing: Alert?, rule: AlertRule, items: [AlertItem], at now: Date) -> (
        alert: Alert?, change: Change?
    ) {
        guard var alert = existing, alert.state != .resolved else {
            guard !items.isEmpty else { return (existing, nil) }
            return (
                Alert(rule: rule, state: .open, items: items, raisedAt: now, updatedAt: now, dismissal: nil), .raised
            )
        }
        if items.isEmpty {
            alert.state = .resolved
            alert.updatedAt = now
            return (alert, .resolved)
        }
        var change: Change?
        if alert.state == .dismissed, let dismissal = alert.dismissal,
            !Set(items.map(\.key)).isSubset(of: dismissal.keys)
        {
            alert.state = .open
            alert.dismissal = nil
            change = .reopened
        }
        if alert.items != items || change != nil {
            alert.items = items
            alert.updatedAt = now
        }
        return (alert, change)
    }

    /// Dismisses an open alert. Nobody dismisses an alert about themselves, or about a group
    /// they are in.
    ///
    /// - Parameter selfIdentities: the actor and every group they are in (``MembershipGraph/selfIdentities(of:)``).
    public mutating func dismiss(
        by actor: Principal.ID, selfIdentities: Set<Principal.ID>, reason: String, at now: Date
    ) throws(RegentError) {
        guard state == .open else { throw RegentError(.conflict, "only an open alert can be dismissed", field: "rule") }
        guard !reason.allSatisfy(\.isWhitespace) else { throw .invalid("reason", "say why the alert is dismissed") }
        let about = Set(items.compactMap(\.principalId))
        guard about.isDisjoint(with: selfIdentities.union([actor])) else {
            throw RegentError(
                .accessDenied, "this alert is about you; another administrator must dismiss it", field: "rule",
                failedRules: [.separationOfDuties])
        }
        state = .dismissed
        dismissal = Dismissal(by: actor, reason: reason, at: now, keys: Set(items.map(\.key)))
        updatedAt = now
    }
}
