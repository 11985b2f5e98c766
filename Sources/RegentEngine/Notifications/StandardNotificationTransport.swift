import Foundation
import RegentConnectors
public import RegentCore
public import RegentStore

/// Delivers outbox messages over the configured channels: email through ``SMTPClient``, the
/// generic webhook as a ``SignedWebhook`` (the connector's client) keyed by the message id so a
/// retried delivery can be recognised, Slack as its incoming-webhook payload.
public struct StandardNotificationTransport: NotificationTransport {
    let settings: NotificationSettings

    public init(settings: NotificationSettings) { self.settings = settings }

    public func deliver(_ message: OutboxMessage) async throws(ExternalFailure) {
        switch message.channel {
        case .email:
            guard let smtp = settings.smtp else {
                throw ExternalFailure(transient: true, "no SMTP server is configured")
            }
            try await SMTPClient(settings: smtp).send(
                .init(
                    to: message.recipient, subject: message.subject, body: message.body,
                    messageId: message.id.uuidString))
        case .webhook:
            let url = message.recipient == "slack" ? settings.slackURL : settings.webhookURL
            guard let url else {
                throw ExternalFailure(transient: true, "the \(message.recipient) webhook is not configured")
            }
            try await post(message, to: url, secret: message.recipient == "slack" ? nil : settings.webhookSecret)
        }
    }

    func post(_ message: OutboxMessage, to url: URL, secret: String?) async throws(ExternalFailure) {
        switch await SignedWebhook.post(
            Data(message.payload.utf8), to: url, idempotencyKey: message.id.uuidString, signingKey: secret,
            name: "\(message.recipient) webhook")
        {
        case .delivered: return
        case .retry(let reason): throw ExternalFailure(transient: true, reason)
        case .refused(let reason): throw ExternalFailure(transient: false, reason)
        }
    }
}
