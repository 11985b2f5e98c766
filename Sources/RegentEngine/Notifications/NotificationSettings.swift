public import Foundation

/// Where notifications go. With no channel configured nothing is queued at all.
public struct NotificationSettings: Sendable {
    /// The portal's address, for links in messages (`https://regent.example.com`).
    public var portalURL: String?
    public var smtp: SMTPSettings?
    /// A generic JSON webhook, signed with `webhookSecret` when set.
    public var webhookURL: URL?
    public var webhookSecret: String?
    /// A Slack-compatible incoming webhook.
    public var slackURL: URL?

    public init(
        portalURL: String? = nil, smtp: SMTPSettings? = nil, webhookURL: URL? = nil, webhookSecret: String? = nil,
        slackURL: URL? = nil
    ) {
        self.portalURL = portalURL
        self.smtp = smtp
        self.webhookURL = webhookURL
        self.webhookSecret = webhookSecret
        self.slackURL = slackURL
    }

    var hasChannel: Bool { smtp != nil || webhookURL != nil || slackURL != nil }

    /// The webhook names a message can be addressed to.
    var webhooks: [String] { (webhookURL == nil ? [] : ["webhook"]) + (slackURL == nil ? [] : ["slack"]) }
}

/// How to reach the SMTP server. Credentials are only ever sent over TLS.
public struct SMTPSettings: Sendable {
    public enum Security: String, Sendable, CaseIterable {
        /// STARTTLS is required; a server that does not offer it is an error.
        case starttls
        /// Plain SMTP, for a relay on loopback; authentication is then refused.
        case none
    }

    public var host: String
    public var port: Int
    public var from: String
    public var security: Security
    public var username: String?
    public var password: String?
    /// PEM file of the certificate authorities to trust instead of the system's.
    public var caFile: String?

    public init(
        host: String, port: Int, from: String, security: Security = .starttls, username: String? = nil,
        password: String? = nil, caFile: String? = nil
    ) {
        self.host = host
        self.port = port
        self.from = from
        self.security = security
        self.username = username
        self.password = password
        self.caFile = caFile
    }
}
