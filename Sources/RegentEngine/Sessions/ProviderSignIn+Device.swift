public import Foundation
import RegentConnectors
public import RegentCore
import RegentStore

/// `regent login --sso` where no browser can reach the CLI's loopback address (a shell on a jump
/// host, a container): the device authorization grant (RFC 8628), brokered by Regent. Regent is
/// the provider's client, so the client secret never leaves the server and the ID token is
/// verified here exactly as in a browser sign-in; the CLI only holds a handle and polls with it.
extension ProviderSignIn {
    /// What the CLI shows the person, and the handle it polls with.
    public struct DeviceSignIn: Sendable {
        public var handle: String
        public var userCode: String
        public var verificationURI: String
        public var verificationURIComplete: String?
        /// Seconds between polls.
        public var interval: Int
        public var expiresAt: Date
    }

    /// Where a device sign-in stands after one poll.
    public enum DeviceProgress: Sendable {
        case pending(interval: Int)
        case signedIn(SignedIn)
    }

    /// Whether the provider's discovery names a device authorization endpoint.
    public func offersDeviceSignIn() async -> Bool {
        (try? await provider.discover())?.deviceAuthorizationEndpoint != nil
    }

    public func beginDeviceSignIn(sourceAddress: IPAddress?, userAgent: String?) async throws -> DeviceSignIn {
        let now = engine.clock.now()
        return try await auditingRefusals(by: actor(sourceAddress: sourceAddress, userAgent: userAgent), now: now) {
            guard let answer = try await asRefusal({ try await provider.authorizeDevice() }) else {
                throw RegentError(.notFound, "\(name) offers no device sign-in", field: "provider")
            }
            let handle = Engine.newToken()
            let expiresAt = now + TimeInterval(min(max(answer.expiresIn, 60), 1800))
            try await engine.store.transaction { tx in
                try await tx.deleteExpiredProviderSignIns(before: now)
                try await tx.insertProviderSignIn(
                    PendingProviderSignIn(
                        stateHash: Engine.hash(handle), provider: name, nonce: "", verifier: answer.deviceCode,
                        returnTo: PendingProviderSignIn.deviceReturn, expiresAt: expiresAt))
            }
            return DeviceSignIn(
                handle: handle, userCode: answer.userCode, verificationURI: answer.verificationURI,
                verificationURIComplete: answer.verificationURIComplete,
                interval: min(max(answer.interval ?? 5, 1), 60), expiresAt: expiresAt)
        }
    }

    /// Asks the provider once whether the person has finished. A sign-in that ends — signed in,
    /// declined, expired — is taken, so a handle works once.
    public func pollDeviceSignIn(handle: String, sourceAddress: IPAddress?, userAgent: String?) async throws
        -> DeviceProgress
    {
        let now = engine.clock.now()
        let actor = actor(sourceAddress: sourceAddress, userAgent: userAgent)
        return try await auditingRefusals(by: actor, now: now) {
            let stateHash = Engine.hash(handle)
            let unknown = Self.refusal("the device sign-in is unknown or finished")
            guard (1...255).contains(handle.count),
                let pending = try await engine.store.transaction({
                    try await $0.pendingProviderSignIn(stateHash: stateHash)
                }), pending.provider == name, pending.isDevice
            else { throw unknown }
            func take() async throws -> Bool {
                try await engine.store.transaction { try await $0.takeProviderSignIn(stateHash: stateHash) } != nil
            }
            guard pending.expiresAt > now else {
                _ = try await take()
                throw Self.refusal("the device sign-in took too long")
            }
            let poll: OpenIDProvider.DevicePoll
            do {
                poll = try await provider.pollDevice(deviceCode: pending.verifier)
            } catch let failure as ExternalFailure {
                // The provider out of reach is not the end of the sign-in: the CLI polls again.
                guard !failure.isTransient else { throw RegentError(.unavailable, failure.reason) }
                _ = try await take()
                throw Self.refusal(failure.reason)
            }
            switch poll {
            case .pending: return .pending(interval: 5)
            case .slowDown: return .pending(interval: 10)
            case .idToken(let token):
                guard try await take() else { throw unknown }
                let identity = try await asRefusal { try await verifiedIdentity(in: token, nonce: nil, now: now) }
                return .signedIn(
                    try await signIn(
                        identity, method: "oidc:\(name) (device)", actor: actor, sourceAddress: sourceAddress,
                        userAgent: userAgent, now: now))
            }
        }
    }
}
