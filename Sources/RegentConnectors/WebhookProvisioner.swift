import Crypto
public import Foundation
public import RegentCore

/// `grant` and `revoke` as ``SignedWebhook`` POSTs to the target's `config.url`, signed with the
/// secret `hmacKey`, for anything Regent has no connector of its own for (Kubernetes, cloud
/// consoles, internal apps). The idempotency key is derived from the event and the assignment, so
/// every retry of one job carries the same; retries run with backoff in the job queue.
public struct WebhookProvisioner: Provisioner {
    public let kind = Target.Kind.webhook
    public init() {}

    public func grant(_ spec: GrantSpec) async throws(ExternalFailure) -> IssuedCredential? {
        try await send("grant", spec)
        return nil
    }

    public func revoke(_ spec: GrantSpec) async throws(ExternalFailure) { try await send("revoke", spec) }

    public func observe(_ target: Target, secrets: TargetSecrets, values: Set<String>) async throws(ExternalFailure)
        -> [ObservedGrant]?
    { nil }

    struct Payload: Encodable {
        var event: String
        var idempotencyKey: String
        var target: String
        var account: String
        var value: String
        var assignmentId: String?
        var requestId: String?
        var until: Date?
    }

    static func idempotencyKey(_ event: String, _ spec: GrantSpec) -> String {
        let digest = SHA256.hash(
            data: Data(
                "\(event)\u{0}\(spec.assignmentId?.description ?? "-")\u{0}\(spec.account)\u{0}\(spec.value)".utf8))
        return digest.map { String(format: "%02x", $0) }.joined()
    }

    private func send(_ event: String, _ spec: GrantSpec) async throws(ExternalFailure) {
        guard let text = spec.target.config["url"], let url = URL(string: text), ["http", "https"].contains(url.scheme)
        else {
            throw ExternalFailure(transient: false, "target \(spec.target.name): config.url must be an http(s) URL")
        }
        guard let key = spec.secrets["hmacKey"], !key.isEmpty else {
            throw ExternalFailure(transient: false, "target \(spec.target.name): the secret hmacKey is not set")
        }
        let idempotencyKey = Self.idempotencyKey(event, spec)
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = .sortedKeys
        let body: Data
        do {
            body = try encoder.encode(
                Payload(
                    event: event, idempotencyKey: idempotencyKey, target: spec.target.name, account: spec.account,
                    value: spec.value, assignmentId: spec.assignmentId?.description,
                    requestId: spec.requestId?.description, until: spec.until))
        } catch {
            throw ExternalFailure(transient: false, "cannot encode the webhook: \(error)")
        }
        switch await SignedWebhook.post(
            body, to: url, idempotencyKey: idempotencyKey, signingKey: key, name: "target \(spec.target.name)")
        {
        case .delivered: return
        case .retry(let reason): throw ExternalFailure(transient: true, reason)
        case .refused(let reason): throw ExternalFailure(transient: false, reason)
        }
    }
}
