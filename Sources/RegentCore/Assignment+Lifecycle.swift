public import Foundation

/// scheduled → active → ended, with an end that happens exactly once.
extension Assignment {
    /// Opens a new assignment: scheduled when it starts later, in force (and granted, for active
    /// ones) when it starts now.
    public static func open(
        id: ID, kind: Kind, principalId: Principal.ID, roleId: Role.ID, scope: Scope, start: Date, end: Date?,
        requestId: Request.ID?, activatedFrom: Assignment.ID?, now: Date
    ) -> (Assignment, [Effect]) {
        let assignment = Assignment(
            id: id, kind: kind, principalId: principalId, roleId: roleId, scope: scope, start: max(start, now),
            end: end,
            state: start > now ? .scheduled : .active, endReason: nil, endedAt: nil, requestId: requestId,
            activatedFrom: activatedFrom, createdAt: now)
        var effects: [Effect] = [.audit(assignment.note(.assignmentCreated))]
        if assignment.state == .scheduled {
            effects += [.saveAssignment(assignment), .schedule(.assignmentStart(id), at: assignment.start)]
        } else {
            effects += assignment.startEffects()
        }
        return (assignment, effects + assignment.createdNotice)
    }

    /// A scheduled assignment reaches its start. Stale timers (already started or ended) do nothing.
    public mutating func begin(now: Date) -> [Effect] {
        guard state == .scheduled, start <= now else { return [] }
        state = .active
        return [.audit(note(.assignmentActivated))] + startEffects()
            + (isActivation ? [.notify(.activationStarted(id))] : [])
    }

    /// Ends the assignment. Ending twice is refused: every assignment ends exactly once.
    public mutating func finish(_ reason: EndReason, now: Date) throws(RegentError) -> [Effect] {
        guard state != .ended else {
            throw RegentError(
                .invalidTransition, "the assignment has already ended (\(endReason?.rawValue ?? "ended"))",
                field: "assignmentId")
        }
        let wasInForce = state == .active
        state = .ended
        endReason = reason
        endedAt = now
        var effects: [Effect] = [.saveAssignment(self), .audit(note(reason.auditAction))]
        if kind == .active && wasInForce { effects.append(.revoke(id)) }
        if let requestId { effects.append(.closeRequest(requestId, because: reason)) }
        return effects + endNotice(reason)
    }

    /// The expiry timer fired. The last active `regent-admin` assignment is never allowed to lapse:
    /// it becomes permanent instead, audited, so Regent can never lock out every administrator.
    public mutating func expire(now: Date, isLastAdministrator: Bool) -> [Effect] {
        guard state != .ended, let end, end <= now else { return [] }
        if isLastAdministrator {
            self.end = nil
            return [
                .saveAssignment(self),
                .audit(
                    note(.assignmentExpiryPrevented, reason: "the last active regent-admin assignment never expires")
                ),
            ]
        }
        // Cannot throw: the state was checked above.
        return (try? finish(.expired, now: now)) ?? []
    }

    /// Moves the end (extend, renew in place, admin update).
    public mutating func changeEnd(to newEnd: Date?, now: Date) throws(RegentError) -> [Effect] {
        guard state != .ended else {
            throw RegentError(.invalidTransition, "the assignment has already ended", field: "assignmentId")
        }
        let previous = end
        end = newEnd
        var effects: [Effect] = [
            .saveAssignment(self),
            .audit(note(.assignmentUpdated, details: ["previousEnd": previous?.rfc3339 ?? "permanent"])),
        ]
        if let newEnd, state == .active { effects.append(.schedule(.assignmentExpiry(id), at: newEnd)) }
        return effects
    }

    private func startEffects() -> [Effect] {
        var effects: [Effect] = [.saveAssignment(self)]
        if kind == .active { effects.append(.grant(id)) }
        if let end { effects.append(.schedule(.assignmentExpiry(id), at: end)) }
        return effects
    }

    func note(_ action: AuditAction, reason: String? = nil, details: [String: String] = [:]) -> AuditNote {
        var all = details
        all["assignmentId"] = id.description
        all["kind"] = kind.rawValue
        all["end"] = end?.rfc3339 ?? "permanent"
        return AuditNote(action, .success, reason: reason, details: all)
    }
}
