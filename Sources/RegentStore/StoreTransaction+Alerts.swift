public import Foundation
import RegentAudit
public import RegentCore
import SQLKit

/// Security alerts, their settings, and the few questions the alert rules ask of assignments and
/// policies that no other use case asks.
extension StoreTransaction {
    public func alerts() async throws -> [Alert] {
        try await db.raw("SELECT * FROM alerts").all().map { row in
            let dismissal = try row.optionalString("dismissal")
            return Alert(
                rule: try row.enumValue("rule", as: AlertRule.self),
                state: try row.enumValue("state", as: Alert.State.self),
                items: try decodeJSON([AlertItem].self, try row.string("items"), "alert items"),
                raisedAt: try row.date("raised_at"), updatedAt: try row.date("updated_at"),
                dismissal: try dismissal.map { try decodeJSON(Alert.Dismissal.self, $0, "alert dismissal") })
        }.sorted { $0.rule < $1.rule }
    }

    public func saveAlert(_ alert: Alert) async throws {
        try await db.raw("DELETE FROM alerts WHERE rule = \(bind: alert.rule.rawValue)").run()
        try await db.raw(
            """
            INSERT INTO alerts (rule, state, items, raised_at, updated_at, dismissal)
            VALUES (\(bind: alert.rule.rawValue), \(bind: alert.state.rawValue), \(bind: try json(alert.items)),
                    \(bind: alert.raisedAt.milliseconds), \(bind: alert.updatedAt.milliseconds),
                    \(bind: try alert.dismissal.map { try json($0) }))
            """
        ).run()
    }

    /// Every rule's settings: the stored ones over the defaults.
    public func alertSettings() async throws -> [AlertRule: AlertSettings] {
        var settings = Dictionary(
            uniqueKeysWithValues: AlertRule.allCases.map { ($0, AlertSettings.defaults(for: $0)) })
        for row in try await db.raw("SELECT * FROM alert_settings").all() {
            settings[try row.enumValue("rule", as: AlertRule.self)] = try decodeJSON(
                AlertSettings.self, try row.string("settings"), "alert settings")
        }
        return settings
    }

    public func saveAlertSettings(_ settings: AlertSettings, for rule: AlertRule) async throws {
        try await db.raw("DELETE FROM alert_settings WHERE rule = \(bind: rule.rawValue)").run()
        try await db.raw(
            "INSERT INTO alert_settings (rule, settings) VALUES (\(bind: rule.rawValue), \(bind: try json(settings)))"
        ).run()
    }

    /// The live assignments an alert rule could report (what `AlertFacts.live` must hold at
    /// least): those of `adminRole`, permanent active ones that are not activations, and, when
    /// `unusedSince` is given, eligibilities that started by then with no activation since. The
    /// rules check their whole condition on these; this keeps the read to what they could find.
    public func alertCandidates(adminRole: Role.ID?, unusedSince: Date?) async throws -> [Assignment] {
        try await db.raw(
            """
            SELECT * FROM assignments e WHERE e.state <> 'ended' AND (
                e.role_id = \(bind: adminRole?.description ?? "")
                OR (e.kind = 'active' AND e.end_at IS NULL AND e.activated_from IS NULL)
                OR (e.kind = 'eligible' AND e.start_at <= \(bind: unusedSince?.milliseconds ?? Int64.min)
                    AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.activated_from = e.id
                                    AND a.start_at >= \(bind: unusedSince?.milliseconds ?? Int64.min))))
            """
        ).all().map(Self.assignment)
    }

    /// How many enabled users there are.
    public func enabledUserCount() async throws -> Int {
        try await db.raw("SELECT COUNT(*) AS n FROM principals WHERE kind = 'user' AND enabled = 1").first()?
            .decode(column: "n", as: Int.self) ?? 0
    }

    /// Activations (assignments made from an eligibility) that started at or after `since`.
    public func activations(since: Date) async throws -> [Assignment] {
        try await db.raw(
            "SELECT * FROM assignments WHERE activated_from IS NOT NULL AND start_at >= \(bind: since.milliseconds)"
        ).all().map(Self.assignment)
    }

    /// The latest start of an activation made from each eligible assignment that was ever activated.
    public func lastActivations() async throws -> [Assignment.ID: Date] {
        try await lastActivations(SQLListQuery("SELECT activated_from, MAX(start_at) AS last_start FROM assignments"))
    }

    /// The latest start of an activation made from each of `eligible` that was ever activated.
    public func lastActivations(of eligible: [Assignment.ID]) async throws -> [Assignment.ID: Date] {
        var last: [Assignment.ID: Date] = [:]
        for slice in Self.slices(eligible.map(\.description)) {
            var query = SQLListQuery("SELECT activated_from, MAX(start_at) AS last_start FROM assignments")
            query.where("activated_from", in: slice)
            last.merge(try await lastActivations(query)) { first, _ in first }
        }
        return last
    }

    private func lastActivations(_ narrowed: SQLListQuery) async throws -> [Assignment.ID: Date] {
        var query = narrowed
        query.where("activated_from IS NOT NULL")
        var last: [Assignment.ID: Date] = [:]
        for row in try await db.raw(query.grouped(by: "activated_from")).all() {
            last[try row.id("activated_from")] = try row.date("last_start")
        }
        return last
    }

    /// Every role's own policies, by role.
    public func allPolicies() async throws -> [Role.ID: [(scope: Scope, policy: Policy)]] {
        var policies: [Role.ID: [(scope: Scope, policy: Policy)]] = [:]
        for row in try await db.raw("SELECT role_id, scope, body FROM policies").all() {
            policies[try row.id("role_id"), default: []].append(
                (try row.scope("scope"), try decodeJSON(Policy.self, try row.string("body"), "policy")))
        }
        return policies
    }
}
