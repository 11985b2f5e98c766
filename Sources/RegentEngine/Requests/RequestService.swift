/// Requests and assignments: filing a request (activate, extend, renew, deactivate, assign,
/// update, remove), approving, denying and canceling it, and listing requests, assignments and
/// one's own roles. The request path of DESIGN.md: RegentCore decides, this service reads the
/// facts and commits state, audit and jobs in one transaction.
public struct RequestService: Sendable {
    let engine: Engine
}

extension Engine {
    public var requests: RequestService { RequestService(engine: self) }
}
