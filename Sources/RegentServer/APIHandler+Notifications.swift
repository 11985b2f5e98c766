import RegentAPI
import RegentEngine

/// My notification settings.
extension APIHandler {
    func getMyNotificationSettings(_ input: Operations.GetMyNotificationSettings.Input) async throws
        -> Operations.GetMyNotificationSettings.Output
    {
        let (_, actor) = try Caller.required()
        return .ok(
            .init(body: .json(.init(nonCriticalEmail: try await engine.notifications.wantsNonCriticalEmail(actor)))))
    }

    func setMyNotificationSettings(_ input: Operations.SetMyNotificationSettings.Input) async throws
        -> Operations.SetMyNotificationSettings.Output
    {
        let (_, actor) = try Caller.required()
        guard case .json(let body) = input.body else { throw APIProblem.invalid("body", "a JSON body is required") }
        try await engine.notifications.setWantsNonCriticalEmail(body.nonCriticalEmail, by: actor)
        return .ok(.init(body: .json(.init(nonCriticalEmail: body.nonCriticalEmail))))
    }
}
