/// Stable names of policy rules. They name a rule both where it is set (inheritance shows which
/// scope set it) and where a request breaks it (`failedRules` in a 422 refusal), so they never change.
public enum PolicyRule: String, Sendable, Codable, CaseIterable, Comparable {
    // activation
    case maximumDuration
    case minimumDuration
    case requireJustification
    case requireTicket
    case requireMfa
    case mfaFreshness
    case approval
    case networks
    case timeWindows
    case maxActivations
    // assignments made by admins
    case eligibleExpiration
    case activeExpiration
    case activeRequireMfa
    case activeRequireJustification
    case notifications
    // safeguards that are not settable per policy but refuse requests all the same
    case eligibility
    case selfDeactivationDelay
    case lastAdministrator
    case separationOfDuties

    /// Declaration order, so refusals list rules the same way every time.
    public static func < (lhs: Self, rhs: Self) -> Bool {
        (allCases.firstIndex(of: lhs) ?? 0) < (allCases.firstIndex(of: rhs) ?? 0)
    }
}
