public import Foundation

/// Policy checks. They never throw: each returns every rule the request breaks, so a refusal can
/// name them all at once.
extension EffectivePolicy {
    /// The checks an activation (or an extension of one) must pass at `start`.
    public func activationFailures(
        duration: ISODuration, justification: String?, ticket: Request.Ticket?, start: Date, context: RequestContext,
        safeguards: Safeguards, countsTowardLimit: Bool
    ) -> [PolicyRule] {
        var failed: [PolicyRule] = []
        if duration < safeguards.minimumDuration { failed.append(.minimumDuration) }
        if duration > maximumDuration { failed.append(.maximumDuration) }
        if requireJustification && justification.isBlank { failed.append(.requireJustification) }
        if requireTicket && (ticket?.system.isBlank ?? true || ticket?.number.isBlank ?? true) {
            failed.append(.requireTicket)
        }
        if requireMfa && !isFresh(context.mfaVerifiedAt, now: context.now, within: mfaFreshness) {
            failed.append(.requireMfa)
        }
        if !networks.isEmpty
            && !(context.sourceAddress.map { address in networks.contains { $0.contains(address) } } ?? false)
        {
            failed.append(.networks)
        }
        if !timeWindows.isEmpty && !timeWindows.contains(where: { $0.contains(start) }) { failed.append(.timeWindows) }
        if countsTowardLimit, let limit = maxActivations, limit.isExceeded(adding: start, to: context.recentActivations)
        {
            failed.append(.maxActivations)
        }
        return failed
    }

    /// The checks an assignment made (or extended, renewed) by an admin must pass.
    /// `lifetime` is nil for a permanent assignment.
    public func assignmentFailures(
        kind: Assignment.Kind, lifetime: ISODuration?, justification: String?, context: RequestContext,
        safeguards: Safeguards
    ) -> [PolicyRule] {
        var failed: [PolicyRule] = []
        let expiration = kind == .eligible ? eligibleExpiration : activeExpiration
        let expirationRule: PolicyRule = kind == .eligible ? .eligibleExpiration : .activeExpiration
        if let lifetime {
            if lifetime < safeguards.minimumDuration { failed.append(.minimumDuration) }
            if let maximum = expiration.maximumDuration, lifetime > maximum {
                failed.append(expirationRule)
            }
        } else if !expiration.allowPermanent {
            failed.append(expirationRule)
        }
        if kind == .active {
            if activeRequireJustification && justification.isBlank { failed.append(.activeRequireJustification) }
            if activeRequireMfa && !isFresh(context.mfaVerifiedAt, now: context.now, within: mfaFreshness) {
                failed.append(.activeRequireMfa)
            }
        }
        return failed
    }

    private func isFresh(_ verifiedAt: Date?, now: Date, within freshness: ISODuration) -> Bool {
        guard let verifiedAt else { return false }
        return verifiedAt <= now && now.timeIntervalSince(verifiedAt) <= freshness.timeInterval
    }
}

extension Optional where Wrapped == String {
    var isBlank: Bool { self?.isBlank ?? true }
}

extension String {
    var isBlank: Bool { allSatisfy(\.isWhitespace) }
}
