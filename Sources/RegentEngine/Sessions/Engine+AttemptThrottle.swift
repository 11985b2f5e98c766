import Foundation
import RegentAudit
import RegentCore
import RegentStore

/// The one slow-down and lockout for guessing a secret: a password at sign-in, and a second factor
/// (a TOTP code at the login step, at enrollment or as an `X-Regent-OTP` step-up). Failures are
/// counted per account and per source address within `lockoutWindow`; an account key reaching
/// `loginFailureLimit` (an address key ten times that) is locked for `lockoutDuration`, and every
/// attempt while locked is refused, even with the right secret. Each factor keeps its own counts,
/// so signing in again with the password never resets the count of wrong codes.
struct AttemptThrottle {
    enum Factor {
        case password
        case secondFactor
    }

    var factor: Factor
    /// The account key first, then the source address's, if known.
    var keys: [String]

    init(_ factor: Factor, account: String, sourceAddress: IPAddress?) {
        self.factor = factor
        let prefix = factor == .password ? "" : "mfa-"
        keys = ["\(prefix)user:\(account)"] + (sourceAddress.map { ["\(prefix)address:\($0)"] } ?? [])
    }

    var accountKey: String { keys[0] }
    /// A wrong secret, an attempt while locked, and the failure that locks.
    var actions: (failed: AuditAction, locked: AuditAction, lockedOut: AuditAction) {
        switch factor {
        case .password: (.authLoginFailed, .authLoginLocked, .authLoginLockedOut)
        case .secondFactor: (.authMfaFailed, .authMfaLocked, .authMfaLockedOut)
        }
    }
}

extension Engine {
    /// Refuses, audited, while any of the throttle's keys is locked.
    func refuseIfLocked(_ throttle: AttemptThrottle, actor: AuditActor, subject: Principal.ID?, now: Date)
        async throws
    {
        let lockedUntil = try await store.transaction { tx -> Date? in
            var latest: Date?
            for key in throttle.keys {
                if let until = try await tx.loginFailures(key)?.lockedUntil, until > now {
                    latest = max(latest ?? until, until)
                }
            }
            guard let latest else { return nil }
            try await self.audit(
                AuditNote(throttle.actions.locked, .denied, reason: "locked until \(latest.rfc3339)"),
                in: tx,
                context: AuditContext(actor: actor, subject: AuditSubject(principalId: subject), correlationId: nil),
                now: now)
            return latest
        }
        if let lockedUntil {
            let what = throttle.factor == .password ? "sign-ins" : "second-factor codes"
            throw RegentError(.tooManyAttempts, "too many failed \(what); try again after \(lockedUntil.rfc3339)")
        }
    }

    /// Audits the failure, counts it under every key (locking a key that reaches its limit, also
    /// audited), then waits longer for each further failure of the account within the window
    /// (up to 2 s) before the caller answers.
    func recordFailure(
        _ throttle: AttemptThrottle, actor: AuditActor, subject: Principal.ID?, reason: String, now: Date
    ) async throws {
        let window = configuration.lockoutWindow
        let lockout = configuration.lockoutDuration
        let userLimit = configuration.loginFailureLimit
        let failures = try await store.transaction { tx in
            let context = AuditContext(actor: actor, subject: AuditSubject(principalId: subject), correlationId: nil)
            try await self.audit(
                AuditNote(throttle.actions.failed, .denied, reason: reason), in: tx, context: context, now: now)
            var accountFailures = 0
            for key in throttle.keys {
                var record =
                    try await tx.loginFailures(key)
                    ?? LoginFailures(key: key, failures: 0, windowStart: now, lockedUntil: nil)
                if now.timeIntervalSince(record.windowStart) >= window {
                    record = LoginFailures(key: key, failures: 0, windowStart: now, lockedUntil: nil)
                }
                record.failures += 1
                let limit = key == throttle.accountKey ? userLimit : userLimit * 10
                if record.failures >= limit {
                    record.lockedUntil = now.addingTimeInterval(lockout)
                    try await self.audit(
                        AuditNote(
                            throttle.actions.lockedOut, .denied,
                            reason: "\(record.failures) failed attempts", details: ["key": key]),
                        in: tx, context: context, now: now)
                }
                try await tx.saveLoginFailures(record)
                if key == throttle.accountKey { accountFailures = record.failures }
            }
            return accountFailures
        }
        try? await clock.sleep(until: now.addingTimeInterval(min(2, 0.1 * pow(2, Double(failures - 1)))))
    }
}
