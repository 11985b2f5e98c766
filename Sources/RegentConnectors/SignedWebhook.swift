public import Crypto
public import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The one signed JSON POST Regent makes, for the webhook connector's grants and revocations and
/// for webhook notifications alike. It carries an `Idempotency-Key` (the same on every retry) and,
/// with a key, `X-Regent-Signature: t=<unix seconds>,v1=<hex>`, the HMAC-SHA256 of `<t>.<body>`,
/// so a receiver can refuse forged and replayed calls. What an answer means is decided here once:
/// 2xx delivered; 408, 429, 5xx and network errors worth retrying; anything else refused for good.
public enum SignedWebhook {
    public enum Outcome: Equatable, Sendable {
        case delivered
        case retry(String)
        case refused(String)
    }

    /// Posts `body` to `url`; `name` says whose endpoint it is in the outcome's reason.
    public static func post(
        _ body: Data, to url: URL, idempotencyKey: String, signingKey: String?, name: String
    ) async -> Outcome {
        var request = URLRequest(url: url, timeoutInterval: 10)
        request.httpMethod = "POST"
        request.httpBody = body
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue(idempotencyKey, forHTTPHeaderField: "Idempotency-Key")
        if let signingKey {
            request.setValue(
                signature(body: body, key: signingKey, time: Date()), forHTTPHeaderField: "X-Regent-Signature")
        }
        do {
            let (_, response) = try await URLSession.shared.data(for: request)
            return outcome(status: (response as? HTTPURLResponse)?.statusCode ?? 0, name: name)
        } catch {
            return .retry("\(name): \(error.localizedDescription)")
        }
    }

    /// What an HTTP status means for a delivery.
    public static func outcome(status: Int, name: String) -> Outcome {
        switch status {
        case 200..<300: .delivered
        case 408, 429, 500..<600, 0: .retry("\(name) answered HTTP \(status)")
        default: .refused("\(name) refused with HTTP \(status)")
        }
    }

    /// `t=<seconds>,v1=<hex HMAC-SHA256 of "<seconds>.<body>">`.
    public static func signature(body: Data, key: String, time: Date) -> String {
        let seconds = String(Int64(time.timeIntervalSince1970))
        let mac = HMAC<SHA256>.authenticationCode(
            for: Data("\(seconds).".utf8) + body, using: SymmetricKey(data: Data(key.utf8)))
        return "t=\(seconds),v1=" + mac.map { String(format: "%02x", $0) }.joined()
    }
}
