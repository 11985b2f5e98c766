public import Crypto
public import Foundation
public import RegentCore

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `grant` and `revoke` as signed JSON POSTs to the target's `config.url`, for anything Regent has
/// no connector of its own for (Kubernetes, cloud consoles, internal apps). Each call carries an
/// `Idempotency-Key` (the same on every retry) and `X-Regent-Signature: t=<unix seconds>,v1=<hex>`,
/// the HMAC-SHA256 of `<t>.<body>` under the secret `hmacKey`, so the receiver can refuse forged
/// and replayed calls. 2xx is done; 408, 429, 5xx and network errors are retried with backoff by
/// the job queue; any other answer is permanent.
public struct WebhookProvisioner: Provisioner {
    public let kind = Target.Kind.webhook
    public init() {}

    public func grant(_ spec: GrantSpec) async throws(ProvisionError) -> IssuedCredential? {
        try await send("grant", spec)
        return nil
    }

    public func revoke(_ spec: GrantSpec) async throws(ProvisionError) { try await send("revoke", spec) }

    public func observe(_ target: Target, secrets: TargetSecrets, values: Set<String>) async throws(ProvisionError)
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

    /// `t=<seconds>,v1=<hex HMAC-SHA256 of "<seconds>.<body>">`.
    public static func signature(body: Data, key: String, time: Date) -> String {
        let seconds = String(Int64(time.timeIntervalSince1970))
        let mac = HMAC<SHA256>.authenticationCode(
            for: Data("\(seconds).".utf8) + body, using: SymmetricKey(data: Data(key.utf8)))
        return "t=\(seconds),v1=" + mac.map { String(format: "%02x", $0) }.joined()
    }

    private func send(_ event: String, _ spec: GrantSpec) async throws(ProvisionError) {
        guard let text = spec.target.config["url"], let url = URL(string: text), ["http", "https"].contains(url.scheme)
        else { throw ProvisionError(transient: false, "target \(spec.target.name): config.url must be an http(s) URL") }
        guard let key = spec.secrets["hmacKey"], !key.isEmpty else {
            throw ProvisionError(transient: false, "target \(spec.target.name): the secret hmacKey is not set")
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
            throw ProvisionError(transient: false, "cannot encode the webhook: \(error)")
        }
        var request = URLRequest(url: url, timeoutInterval: 10)
        request.httpMethod = "POST"
        request.httpBody = body
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue(idempotencyKey, forHTTPHeaderField: "Idempotency-Key")
        request.setValue(Self.signature(body: body, key: key, time: Date()), forHTTPHeaderField: "X-Regent-Signature")
        let status: Int
        do {
            let (_, response) = try await URLSession.shared.data(for: request)
            status = (response as? HTTPURLResponse)?.statusCode ?? 0
        } catch {
            throw ProvisionError(transient: true, "target \(spec.target.name): \(error.localizedDescription)")
        }
        switch status {
        case 200..<300: return
        case 408, 429, 500..<600, 0:
            throw ProvisionError(transient: true, "target \(spec.target.name) answered HTTP \(status)")
        default:
            throw ProvisionError(transient: false, "target \(spec.target.name) refused with HTTP \(status)")
        }
    }
}
