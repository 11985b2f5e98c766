/// An administrative right in Regent itself. Only the built-in roles carry them, and only through
/// an active assignment in force, so Regent's own admin rights are eligible and just in time like
/// any other role. Self-service and approval rights are not here: they come from the requester's
/// own eligibility and from the policies' approvers.
public enum Permission: String, Sendable, CaseIterable {
    /// Create, change and disable principals; group membership; reset another user's MFA.
    case managePrincipals
    /// Create and change roles, their entitlements and their policies.
    case manageRoles
    /// Register and change targets (connector instances) and their secrets.
    case manageTargets
    /// Assign and remove eligible or active assignments for others.
    case manageAssignments
    /// Read every principal, assignment, request, target configuration, and check anyone.
    case readEverything
    /// Search and verify the audit log.
    case readAudit
    /// Dismiss security alerts and set their rules' thresholds.
    case manageAlerts
}

extension Role.BuiltIn {
    /// The one table of what each built-in role allows; the engine's authorization reads only this.
    public var permissions: Set<Permission> {
        switch self {
        case .regentAdmin: Set(Permission.allCases)
        case .privilegedRoleAdmin: [.manageRoles, .manageTargets, .manageAssignments, .readEverything, .manageAlerts]
        case .securityReader: [.readEverything, .readAudit]
        case .auditor: [.readAudit]
        }
    }
}
