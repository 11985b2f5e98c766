import RegentAPI
import RegentCore
import RegentEngine

/// The providers people sign in with, and the device sign-in (RFC 8628) `regent login --sso`
/// falls back to where no browser can reach the CLI.
extension APIHandler {
    func listSignInProviders(_ input: Operations.ListSignInProviders.Input) async throws
        -> Operations.ListSignInProviders.Output
    {
        var items: [Components.Schemas.SignInProvider] = []
        for provider in signInProviders {
            items.append(.init(name: provider.name, deviceSignIn: await provider.offersDeviceSignIn()))
        }
        return .ok(.init(body: .json(.init(items: items))))
    }

    func beginDeviceSignIn(_ input: Operations.BeginDeviceSignIn.Input) async throws
        -> Operations.BeginDeviceSignIn.Output
    {
        let caller = Caller.current
        let started = try await provider(named: input.path.name).beginDeviceSignIn(
            sourceAddress: caller.sourceAddress, userAgent: caller.userAgent)
        return .ok(
            .init(
                body: .json(
                    .init(
                        handle: started.handle, userCode: started.userCode, verificationUri: started.verificationURI,
                        verificationUriComplete: started.verificationURIComplete, interval: started.interval,
                        expiresAt: started.expiresAt))))
    }

    func pollDeviceSignIn(_ input: Operations.PollDeviceSignIn.Input) async throws
        -> Operations.PollDeviceSignIn.Output
    {
        guard case .json(let body) = input.body else { throw APIProblem.invalid("body", "send JSON") }
        let caller = Caller.current
        switch try await provider(named: input.path.name).pollDeviceSignIn(
            handle: body.handle, sourceAddress: caller.sourceAddress, userAgent: caller.userAgent)
        {
        case .pending(let interval):
            return .accepted(.init(body: .json(.init(interval: interval))))
        case .signedIn(let signedIn):
            return .ok(
                .init(
                    body: .json(
                        .init(token: signedIn.token, mfaRequired: signedIn.mfaRequired, expiresAt: signedIn.expiresAt)))
            )
        }
    }

    private func provider(named name: String) throws -> ProviderSignIn {
        guard let provider = signInProviders.first(where: { $0.name == name }) else {
            throw RegentError(.notFound, "no sign-in provider is named \(name)", field: "name")
        }
        return provider
    }
}
