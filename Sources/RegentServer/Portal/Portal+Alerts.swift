import Foundation
import Hummingbird
import RegentAPI
import RegentCore
import RegentEngine

/// Security alerts in the browser: each with its items and fix, a dismiss form for those who may,
/// and the rules' switches and thresholds.
extension Portal {
    func registerAlerts(on router: Router<RegentRequestContext>) {
        router.get("/alerts") { request, _ in
            try await alertsPage(notice: Self.notices[request.uri.queryParameters["done"].map(String.init) ?? ""])
        }
        router.post("/alerts/dismiss") { request, _ in try await alertAction(request, dismissing: true) }
        router.post("/alerts/rule") { request, _ in try await alertAction(request, dismissing: false) }
    }

    private func alertsPage(notice: String? = nil, refusal: RegentError? = nil) async throws -> Response {
        guard let (session, actor) = signedIn() else { return Self.redirect("/login") }
        do {
            let csrf = csrfToken(for: session)
            let manager = try await engine.permits(actor, .manageAlerts)
            let names = try await Directory(engine: engine, actor: actor)
            let alerts = try await engine.governance.alerts(by: actor).sorted {
                ($0.state == .resolved ? 1 : 0) < ($1.state == .resolved ? 1 : 0)
            }
            let settings = try await engine.governance.alertSettings(by: actor)
            var values: [String: Any] = [
                "alerts": alerts.map { alert -> [String: Any] in
                    [
                        "rule": alert.rule.rawValue, "state": alert.state.rawValue, "open": alert.state == .open,
                        "items": alert.items.map(\.summary), "fix": alert.rule.fix, "csrf": csrf, "manager": manager,
                        "raised": (try? Self.dates.encode(alert.raisedAt)) ?? "",
                        "dismissal": alert.dismissal.map {
                            "dismissed by \(names.principalName($0.by)): \($0.reason)"
                        } ?? "",
                    ]
                },
                "none": alerts.isEmpty, "manager": manager,
                "rules": AlertRule.allCases.map { rule -> [String: Any] in
                    let setting = settings[rule] ?? .defaults(for: rule)
                    let needs = AlertSettings.defaults(for: rule)
                    return [
                        "rule": rule.rawValue, "enabled": setting.enabled, "csrf": csrf, "manager": manager,
                        "count": setting.count.map(String.init) ?? "", "hasCount": needs.count != nil,
                        "percent": setting.percent.map(String.init) ?? "", "hasPercent": needs.percent != nil,
                        "window": setting.window?.description ?? "", "hasWindow": needs.window != nil,
                        "names": setting.names.joined(separator: ", "),
                        "hasNames": rule == .permanentActiveAssignment || rule == .breakGlassUsed,
                    ]
                },
            ]
            if let notice { values["notice"] = notice }
            values["error"] = refusal?.reason
            return try await page("alerts", title: "Security alerts", values, status: refusal?.pageStatus ?? .ok)
        } catch let failure as RegentError {
            return try await refusalPage(failure, title: "Security alerts")
        }
    }

    private func alertAction(_ request: Request, dismissing: Bool) async throws -> Response {
        guard let (session, actor) = signedIn() else { return Self.redirect("/login") }
        let fields = try await form(request, session: session)
        do {
            guard let rule = AlertRule(rawValue: fields["rule"] ?? "") else {
                throw RegentError.invalid("rule", "no such alert rule")
            }
            if dismissing {
                _ = try await engine.governance.dismissAlert(rule, reason: fields.text("reason") ?? "", by: actor)
            } else {
                func number(_ name: String) throws(RegentError) -> Int? {
                    guard let text = fields.text(name) else { return nil }
                    guard let value = Int(text) else { throw .invalid(name, "a whole number") }
                    return value
                }
                let settings = AlertSettings(
                    enabled: fields["enabled"] == "true", count: try number("count"), percent: try number("percent"),
                    window: try fields.text("window").map { try ISODuration(parsing: $0, field: "window") },
                    names: (fields["names"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                        .filter { !$0.isEmpty })
                _ = try await engine.governance.setAlertSettings(settings, for: rule, by: actor)
            }
            return Self.redirect("/alerts?done=\(dismissing ? "dismissed" : "saved")")
        } catch let error as RegentError {
            return try await alertsPage(refusal: error)
        }
    }
}
