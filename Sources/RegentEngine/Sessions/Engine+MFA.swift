public import Foundation
import RegentAudit
import RegentCore
import RegentStore

/// TOTP enrollment and verification. Every attempt is audited; a code is accepted at most once,
/// and never one older than the last accepted.
extension Engine {

    func checkCode(_ code: String, session: Authenticated, actor: ActorContext, confirming: Bool) async throws
        -> Date
    {
        let now = clock.now()
        let throttle = AttemptThrottle(
            .secondFactor, account: actor.principalId.description, sourceAddress: actor.sourceAddress)
        try await refuseIfLocked(throttle, actor: actor.auditActor, subject: actor.principalId, now: now)
        let outcome = try await store.transaction { tx -> RegentError? in
            guard var enrollment = try await tx.totpEnrollment(of: actor.principalId),
                (enrollment.confirmedAt == nil) == confirming
            else {
                return RegentError(
                    .invalidTransition,
                    confirming ? "no TOTP enrollment waits for confirmation" : "no TOTP is enrolled",
                    field: "code")
            }
            let totp = TOTP(secret: try self.secrets.open(enrollment.sealedSecret))
            guard let step = totp.matchingStep(for: code, at: now), step > enrollment.lastUsedStep else {
                return RegentError(.mfaRequired, "the code is wrong, expired or was already used", field: "code")
            }
            try await tx.clearLoginFailures(throttle.accountKey)
            enrollment.lastUsedStep = step
            if confirming { enrollment.confirmedAt = now }
            try await tx.saveTOTPEnrollment(enrollment)
            try await tx.setSessionMFAVerified(tokenHash: session.tokenHash, at: now)
            try await self.audit(
                AuditNote(confirming ? .authMfaEnrolled : .authMfaVerified), in: tx,
                context: self.selfContext(actor),
                now: now)
            return nil
        }
        sessionCache.invalidate(session.tokenHash)
        if let outcome {
            if outcome.code == .mfaRequired {
                try await recordFailure(
                    throttle, actor: actor.auditActor, subject: actor.principalId,
                    reason: "wrong, expired or reused code",
                    now: now)
            }
            throw outcome
        }
        return now
    }

    func selfContext(_ actor: ActorContext) -> AuditContext {
        AuditContext(actor: actor.auditActor, subject: AuditSubject(principalId: actor.principalId), correlationId: nil)
    }
}

extension SessionService {
    /// Starts (or restarts, while unconfirmed) an enrollment; returns the secret for the app.
    public func beginTOTPEnrollment(by actor: ActorContext) async throws -> (secret: String, uri: String) {
        let now = engine.clock.now()
        let secret = TOTP.generateSecret()
        let sealed = try engine.secrets.seal(secret)
        try await engine.store.transaction { tx in
            if try await tx.totpEnrollment(of: actor.principalId)?.confirmedAt != nil {
                throw RegentError(.conflict, "TOTP is already enrolled", field: "totp")
            }
            try await tx.saveTOTPEnrollment(
                TOTPEnrollment(
                    principalId: actor.principalId, sealedSecret: sealed, confirmedAt: nil, lastUsedStep: 0,
                    createdAt: now))
            try await engine.audit(
                AuditNote(.authMfaEnrollmentStarted), in: tx, context: engine.selfContext(actor), now: now)
        }
        return (Base32.encode(secret), TOTP(secret: secret).provisioningURI(account: actor.name))
    }

    /// Confirms the enrollment with a first code; the session counts as MFA-verified.
    public func confirmTOTPEnrollment(code: String, session: Authenticated, by actor: ActorContext) async throws {
        _ = try await engine.checkCode(code, session: session, actor: actor, confirming: true)
    }

    /// Verifies a code for the session (the login step, or a step-up); returns the verification time.
    @discardableResult
    public func verifyTOTP(code: String, session: Authenticated, by actor: ActorContext) async throws -> Date {
        try await engine.checkCode(code, session: session, actor: actor, confirming: false)
    }
}
