import Hummingbird
import RegentEngine

/// My settings: whether I receive non-critical email.
extension Portal {
    func registerSettings(on router: Router<RegentRequestContext>) {
        router.get("/settings") { request, _ in
            guard let (_, actor) = signedIn() else { return Self.redirect("/login") }
            var values: [String: Any] = ["nonCritical": try await engine.notifications.wantsNonCriticalEmail(actor)]
            if let notice = Self.notices[request.uri.queryParameters["done"].map(String.init) ?? ""] {
                values["notice"] = notice
            }
            return try await page("settings", title: "Settings", values)
        }
        router.post("/settings") { request, _ in
            guard let (session, actor) = signedIn() else { return Self.redirect("/login") }
            let fields = try await form(request, session: session)
            try await engine.notifications.setWantsNonCriticalEmail(fields["nonCriticalEmail"] == "on", by: actor)
            return Self.redirect("/settings?done=saved")
        }
    }
}
