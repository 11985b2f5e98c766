public import Foundation

/// An access review: which assignments are reviewed, by whom, how often and with which settings
/// (Graph's accessReviewScheduleDefinition, cut to Regent's model). Each occurrence becomes a
/// ``ReviewInstance`` that snapshots the assignments at its start.
public struct ReviewDefinition: Identifiable, Hashable, Sendable, Codable {
    public typealias ID = Identifier<ReviewDefinition>

    public enum Reviewers: Hashable, Sendable, Codable {
        /// Named users or groups (groups are expanded when a decision is made).
        case principals([Principal.ID])
        /// Each principal's manager; the fallback when a principal has none.
        case managers(fallback: [Principal.ID])
        /// The principals themselves; groups' assignments go to the fallback.
        case selfReview(fallback: [Principal.ID])
    }

    public enum Recurrence: String, Hashable, Sendable, Codable, CaseIterable {
        case once, weekly, monthly, quarterly, semiannually, annually
    }

    public enum Ending: Hashable, Sendable, Codable {
        case never
        case on(Date)
        case after(occurrences: Int)
    }

    public enum DefaultDecision: String, Hashable, Sendable, Codable, CaseIterable {
        case noChange, remove, approve, recommendation
    }

    public let id: ID
    public var name: String
    /// Empty: every role.
    public var roleIds: [Role.ID]
    /// Assignments at or below this scope.
    public var scope: Scope
    public var kinds: Set<Assignment.Kind>
    /// Only principals with no activation (eligible) or sign-in (active) for this many days.
    public var inactiveDays: Int?
    public var reviewers: Reviewers
    public var recurrence: Recurrence
    public var start: Date
    /// How long each occurrence stays open.
    public var duration: ISODuration
    public var ending: Ending
    public var justificationRequired: Bool
    public var defaultDecision: DefaultDecision
    public var autoApply: Bool
    public var reminders: Bool
    /// Email addresses told when an occurrence completes, besides the creator.
    public var completionRecipients: [String]
    /// The look-back window of the recommendations.
    public var lookBackDays: Int
    public let createdBy: Principal.ID
    public let createdAt: Date

    public init(
        id: ID, name: String, roleIds: [Role.ID], scope: Scope, kinds: Set<Assignment.Kind>, inactiveDays: Int?,
        reviewers: Reviewers, recurrence: Recurrence, start: Date, duration: ISODuration, ending: Ending,
        justificationRequired: Bool, defaultDecision: DefaultDecision, autoApply: Bool, reminders: Bool,
        completionRecipients: [String], lookBackDays: Int = 30, createdBy: Principal.ID, createdAt: Date
    ) throws(RegentError) {
        guard (1...200).contains(name.count) else {
            throw .invalid("name", "a review has a name of 1 to 200 characters")
        }
        guard !kinds.isEmpty else { throw .invalid("kinds", "review eligible or active assignments, or both") }
        guard duration >= .days(1) && duration <= .days(180) else {
            throw .invalid("duration", "an occurrence lasts 1 to 180 days")
        }
        if recurrence != .once,
            let period = recurrence.months.map({ Double($0) * 28 * 86_400 }) ?? Optional(7 * 86_400),
            duration.timeInterval > period
        {
            throw .invalid("duration", "an occurrence must end before the next one starts")
        }
        guard (1...365).contains(lookBackDays) else { throw .invalid("lookBackDays", "1 to 365 days") }
        if let inactiveDays, !(1...3650).contains(inactiveDays) { throw .invalid("inactiveDays", "1 to 3650 days") }
        if case .after(let count) = ending, count < 1 { throw .invalid("ending", "at least one occurrence") }
        switch reviewers {
        case .principals(let ids) where ids.isEmpty: throw .invalid("reviewers", "name at least one reviewer")
        case .managers(let fallback) where fallback.isEmpty:
            throw .invalid("reviewers.fallback", "managers need a fallback reviewer")
        default: break
        }
        self.id = id
        self.name = name
        self.roleIds = roleIds
        self.scope = scope
        self.kinds = kinds
        self.inactiveDays = inactiveDays
        self.reviewers = reviewers
        self.recurrence = recurrence
        self.start = start
        self.duration = duration
        self.ending = ending
        self.justificationRequired = justificationRequired
        self.defaultDecision = defaultDecision
        self.autoApply = autoApply
        self.reminders = reminders
        self.completionRecipients = completionRecipients
        self.lookBackDays = lookBackDays
        self.createdBy = createdBy
        self.createdAt = createdAt
    }

    /// The start of occurrence `index` (0-based), or nil when the schedule has ended by then.
    public func occurrenceStart(_ index: Int) -> Date? {
        guard index >= 0 else { return nil }
        if recurrence == .once && index > 0 { return nil }
        if case .after(let count) = ending, index >= count { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .current
        let date: Date? =
            if let months = recurrence.months {
                calendar.date(byAdding: .month, value: months * index, to: start)
            } else {
                calendar.date(byAdding: .day, value: (recurrence == .weekly ? 7 : 0) * index, to: start)
            }
        guard let date else { return nil }
        if case .on(let last) = ending, date > last { return nil }
        return date
    }

    /// Whether an assignment falls within the review.
    public func covers(_ assignment: Assignment) -> Bool {
        !assignment.isActivation && kinds.contains(assignment.kind) && scope.covers(assignment.scope)
            && (roleIds.isEmpty || roleIds.contains(assignment.roleId))
    }
}

extension ReviewDefinition.Recurrence {
    var months: Int? {
        switch self {
        case .once, .weekly: nil
        case .monthly: 1
        case .quarterly: 3
        case .semiannually: 6
        case .annually: 12
        }
    }
}

/// One occurrence of a review: the assignments it covered at its start, each with its reviewers,
/// a recommendation and, once made, a decision.
public struct ReviewInstance: Identifiable, Hashable, Sendable, Codable {
    public typealias ID = Identifier<ReviewInstance>
    public enum State: String, Hashable, Sendable, Codable, CaseIterable { case active, completed, applied }

    public let id: ID
    public let definitionId: ReviewDefinition.ID
    public let occurrence: Int
    public let start: Date
    public let end: Date
    public var state: State
    public var reminded: Bool
    public var items: [ReviewItem]

    public init(
        id: ID, definitionId: ReviewDefinition.ID, occurrence: Int, start: Date, end: Date, state: State = .active,
        reminded: Bool = false, items: [ReviewItem]
    ) {
        self.id = id
        self.definitionId = definitionId
        self.occurrence = occurrence
        self.start = start
        self.end = end
        self.state = state
        self.reminded = reminded
        self.items = items
    }

    /// Closes the review: every item without a decision takes the definition's default.
    public mutating func complete(defaultDecision: ReviewDefinition.DefaultDecision, now: Date) {
        guard state == .active else { return }
        for index in items.indices where items[index].decision == nil {
            let verdict: ReviewItem.Verdict? =
                switch defaultDecision {
                case .noChange: nil
                case .remove: .deny
                case .approve: .approve
                case .recommendation: items[index].recommendation
                }
            if let verdict {
                items[index].decision = ReviewItem.Decision(
                    verdict: verdict, by: nil, at: now, justification: "default: \(defaultDecision.rawValue)")
            }
        }
        state = .completed
    }
}

/// One assignment under review.
public struct ReviewItem: Identifiable, Hashable, Sendable, Codable {
    public typealias ID = Identifier<ReviewItem>
    public enum Verdict: String, Hashable, Sendable, Codable, CaseIterable { case approve, deny, dontKnow }

    public struct Decision: Hashable, Sendable, Codable {
        public var verdict: Verdict
        /// nil: the default applied when the review ended.
        public var by: Principal.ID?
        public var at: Date
        public var justification: String?

        public init(verdict: Verdict, by: Principal.ID?, at: Date, justification: String?) {
            self.verdict = verdict
            self.by = by
            self.at = at
            self.justification = justification
        }
    }

    public let id: ID
    public let assignmentId: Assignment.ID
    public let principalId: Principal.ID
    public let roleId: Role.ID
    public let scope: Scope
    public let kind: Assignment.Kind
    public let reviewers: [Principal.ID]
    public let recommendation: Verdict
    public let recommendationReason: String
    public var decision: Decision?
    /// What applying did to the assignment. The raw values are the stored and shown spelling.
    public enum Outcome: String, Hashable, Sendable, Codable, CaseIterable {
        case kept
        case removed
        case alreadyEnded = "already ended"
        case keptLastAdministrator = "kept: the last active regent-admin"
    }

    /// What applying did; nil until the results are applied.
    public var outcome: Outcome?

    public init(
        id: ID, assignmentId: Assignment.ID, principalId: Principal.ID, roleId: Role.ID, scope: Scope,
        kind: Assignment.Kind, reviewers: [Principal.ID], recommendation: Verdict, recommendationReason: String,
        decision: Decision? = nil, outcome: Outcome? = nil
    ) {
        self.id = id
        self.assignmentId = assignmentId
        self.principalId = principalId
        self.roleId = roleId
        self.scope = scope
        self.kind = kind
        self.reviewers = reviewers
        self.recommendation = recommendation
        self.recommendationReason = recommendationReason
        self.decision = decision
        self.outcome = outcome
    }

    /// Deny when the access was not used within the look-back window, with the reason.
    public static func recommend(lastUse: Date?, lookBackDays: Int, kind: Assignment.Kind, now: Date) -> (
        Verdict, String
    ) {
        let what = kind == .eligible ? "activated" : "signed in"
        guard let lastUse, now.timeIntervalSince(lastUse) <= Double(lookBackDays) * 86_400 else {
            return (.deny, "not \(what) in the last \(lookBackDays) days")
        }
        return (.approve, "\(what) \(lastUse.rfc3339)")
    }
}
