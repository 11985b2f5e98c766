/// Every action Regent writes to the audit log, with its stable dotted spelling (the raw value),
/// which is what the chain hashes, what searches match and what exports show. One enum so that no
/// code compares action strings: a renamed case breaks the build, never silently a notification
/// or an alert. Spellings are past tense for what happened and end in `.refused` for what was
/// refused; they are never changed once written, only added.
public enum AuditAction: String, Hashable, Sendable, Codable, CaseIterable {
    // Alerts
    case alertDismissRefused = "alert.dismiss.refused"
    case alertDismissed = "alert.dismissed"
    case alertRaised = "alert.raised"
    case alertReopened = "alert.reopened"
    case alertResolved = "alert.resolved"
    case alertRevocationFailing = "alert.revocation_failing"
    case alertSettingsChangeRefused = "alert.settings_change.refused"
    case alertSettingsChanged = "alert.settings_changed"
    // Assignments
    case assignmentActivated = "assignment.activated"
    case assignmentCanceled = "assignment.canceled"
    case assignmentCreated = "assignment.created"
    case assignmentDeactivated = "assignment.deactivated"
    case assignmentExpired = "assignment.expired"
    case assignmentExpiryPrevented = "assignment.expiry_prevented"
    case assignmentRemoved = "assignment.removed"
    case assignmentRevoked = "assignment.revoked"
    case assignmentUpdated = "assignment.updated"
    case assignmentWithdrawn = "assignment.withdrawn"
    // The audit log itself
    case auditExported = "audit.exported"
    case reportExported = "report.exported"
    // Regent itself
    case regentBootstrapped = "regent.bootstrapped"
    // Sign-in, second factors and API tokens
    case authLoginSucceeded = "auth.login.succeeded"
    case authLoginFailed = "auth.login.failed"
    case authLoginLocked = "auth.login.locked"
    case authLoginLockedOut = "auth.login.locked_out"
    case authLogout = "auth.logout"
    case authProviderLoginRefused = "auth.provider_login.refused"
    case authMfaEnrolled = "auth.mfa.enrolled"
    case authMfaEnrollmentStarted = "auth.mfa.enrollment_started"
    case authMfaVerified = "auth.mfa.verified"
    case authMfaFailed = "auth.mfa.failed"
    case authMfaLocked = "auth.mfa.locked"
    case authMfaLockedOut = "auth.mfa.locked_out"
    case authTokenCreated = "auth.token.created"
    case authTokenRevoked = "auth.token.revoked"
    // Refused reads, aggregated per actor and operation
    case authorizationDenied = "authorization.denied"
    // Short-lived credentials
    case credentialRetrieveRefused = "credential.retrieve.refused"
    case credentialRetrieved = "credential.retrieved"
    // Grants on targets
    case grantApplied = "grant.applied"
    case grantMissing = "grant.missing"
    case grantOutsideRegent = "grant.outside_regent"
    case grantRestored = "grant.restored"
    case grantRevoked = "grant.revoked"
    case grantGrantFailed = "grant.grant_failed"
    case grantRevokeFailed = "grant.revoke_failed"
    /// A revocation that went through after passing the attempt limit.
    case revocationRecovered = "revocation.recovered"
    // The organisation's directory, through SCIM
    case directoryChangeRefused = "directory.change.refused"
    case directoryGroupCreated = "directory.group_created"
    case directoryGroupDeleted = "directory.group_deleted"
    case directoryGroupUpdated = "directory.group_updated"
    case directoryUserCreated = "directory.user_created"
    case directoryUserDeleted = "directory.user_deleted"
    case directoryUserUpdated = "directory.user_updated"
    case scimTokenCreateRefused = "scim.token_create.refused"
    case scimTokenCreated = "scim.token_created"
    case scimTokenRevokeRefused = "scim.token_revoke.refused"
    case scimTokenRevoked = "scim.token_revoked"
    // Group membership
    case groupMemberAddRefused = "group.member_add.refused"
    case groupMemberAdded = "group.member_added"
    case groupMemberRemoveRefused = "group.member_remove.refused"
    case groupMemberRemoved = "group.member_removed"
    // Jobs
    case jobFailed = "job.failed"
    // Policy as code: one event per apply, listing its changes and the manifest's SHA-256
    case manifestApplied = "manifest.applied"
    case manifestApplyRefused = "manifest.apply.refused"
    // Second-factor resets
    case mfaTotpReset = "mfa.totp_reset"
    case mfaTotpResetRefused = "mfa.totp_reset.refused"
    // Notifications
    case notificationFailed = "notification.failed"
    case notificationPreferenceChanged = "notification.preference_changed"
    // Policies
    case policyUpdateRefused = "policy.update.refused"
    case policyUpdated = "policy.updated"
    case policyRemoved = "policy.removed"
    // Principals
    case principalCreateRefused = "principal.create.refused"
    case principalCreated = "principal.created"
    case principalIdentityLinked = "principal.identity_linked"
    case principalDisabled = "principal.disabled"
    case principalManagerRefused = "principal.manager.refused"
    case principalManagerSet = "principal.manager_set"
    case principalUpdateRefused = "principal.update.refused"
    case principalUpdated = "principal.updated"
    // Requests
    case requestApproveRefused = "request.approve.refused"
    case requestApproved = "request.approved"
    case requestCancelRefused = "request.cancel.refused"
    case requestCanceled = "request.canceled"
    case requestCreated = "request.created"
    case requestDenied = "request.denied"
    case requestDenyRefused = "request.deny.refused"
    case requestEscalated = "request.escalated"
    case requestExpired = "request.expired"
    case requestFailed = "request.failed"
    case requestProvisioned = "request.provisioned"
    case requestRefused = "request.refused"
    case requestRevoked = "request.revoked"
    case requestStageApproved = "request.stage_approved"
    case requestStarted = "request.started"
    case requestTimedOut = "request.timed_out"
    case requestWithdrawn = "request.withdrawn"
    // Access reviews
    case reviewApplied = "review.applied"
    case reviewApplyRefused = "review.apply.refused"
    case reviewCompleted = "review.completed"
    case reviewCreateRefused = "review.create.refused"
    case reviewCreated = "review.created"
    case reviewDecideRefused = "review.decide.refused"
    case reviewDecided = "review.decided"
    case reviewSkipped = "review.skipped"
    case reviewStarted = "review.started"
    // Roles
    case roleCreateRefused = "role.create.refused"
    case roleCreated = "role.created"
    case roleUpdateRefused = "role.update.refused"
    case roleUpdated = "role.updated"
    // SSH certificates
    case sshCertificateRefused = "ssh.certificate.refused"
    case sshCertificateIssued = "ssh.certificate_issued"
    // Targets
    case targetCreateRefused = "target.create.refused"
    case targetCreated = "target.created"
    case targetUpdateRefused = "target.update.refused"
    case targetUpdated = "target.updated"
    // Role tokens and their signing keys
    case tokenIssued = "token.issued"
    case tokenKeyRotated = "token.key_rotated"
}
