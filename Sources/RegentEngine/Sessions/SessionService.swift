/// Who is calling: sign-in with password and second factor (throttled), sessions, TOTP
/// enrollment and verification, and API tokens.
public struct SessionService: Sendable {
    let engine: Engine
}

extension Engine {
    public var sessions: SessionService { SessionService(engine: self) }
}
