import Foundation
import RegentConnectors
public import RegentStore

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Delivers outbox messages over the configured channels: email through ``SMTPClient``, the
/// generic webhook as signed JSON (`X-Regent-Signature`, the same scheme as the webhook
/// connector) with an `Idempotency-Key` so a retried delivery can be recognised, Slack as its
/// incoming-webhook payload.
public struct StandardNotificationTransport: NotificationTransport {
    let settings: NotificationSettings

    public init(settings: NotificationSettings) { self.settings = settings }

    public func deliver(_ message: OutboxMessage) async throws(DeliveryError) {
        switch message.channel {
        case .email:
            guard let smtp = settings.smtp else {
                throw DeliveryError(permanent: false, "no SMTP server is configured")
            }
            try await SMTPClient(settings: smtp).send(
                .init(
                    to: message.recipient, subject: message.subject, body: message.body,
                    messageId: message.id.uuidString))
        case .webhook:
            let url = message.recipient == "slack" ? settings.slackURL : settings.webhookURL
            guard let url else {
                throw DeliveryError(permanent: false, "the \(message.recipient) webhook is not configured")
            }
            try await post(message, to: url, secret: message.recipient == "slack" ? nil : settings.webhookSecret)
        }
    }

    private func post(_ message: OutboxMessage, to url: URL, secret: String?) async throws(DeliveryError) {
        let body = Data(message.payload.utf8)
        var request = URLRequest(url: url, timeoutInterval: 10)
        request.httpMethod = "POST"
        request.httpBody = body
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue(message.id.uuidString, forHTTPHeaderField: "Idempotency-Key")
        if let secret {
            request.setValue(
                WebhookProvisioner.signature(body: body, key: secret, time: Date()),
                forHTTPHeaderField: "X-Regent-Signature")
        }
        let status: Int
        do {
            let (_, response) = try await URLSession.shared.data(for: request)
            status = (response as? HTTPURLResponse)?.statusCode ?? 0
        } catch {
            throw DeliveryError(permanent: false, "\(message.recipient) webhook: \(error.localizedDescription)")
        }
        switch status {
        case 200..<300: return
        case 408, 429, 500..<600, 0:
            throw DeliveryError(permanent: false, "\(message.recipient) webhook answered HTTP \(status)")
        default: throw DeliveryError(permanent: true, "\(message.recipient) webhook refused with HTTP \(status)")
        }
    }
}
