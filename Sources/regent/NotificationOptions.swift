import ArgumentParser
import Foundation
import RegentEngine

/// `regent serve`'s notification channels. Secrets (the SMTP password, the webhook key) are read
/// from the environment only, so they never appear in a process listing.
struct NotificationOptions: ParsableArguments {
    @Option(name: .customLong("smtp-host"), help: "SMTP server for email notifications (REGENT_SMTP_HOST).")
    var smtpHost: String?
    @Option(name: .customLong("smtp-port"), help: "SMTP port (REGENT_SMTP_PORT). Default 587.")
    var smtpPort: String?
    @Option(name: .customLong("smtp-from"), help: "Sender address (REGENT_SMTP_FROM).")
    var smtpFrom: String?
    @Option(
        name: .customLong("smtp-security"),
        help: "starttls (required) or none, for a relay on loopback (REGENT_SMTP_SECURITY). Default starttls.")
    var smtpSecurity: String?
    @Option(
        name: .customLong("smtp-username"),
        help: "SMTP user (REGENT_SMTP_USERNAME); the password comes from REGENT_SMTP_PASSWORD.")
    var smtpUsername: String?
    @Option(name: .customLong("smtp-ca-file"), help: "PEM of the CAs to trust for SMTP (REGENT_SMTP_CA_FILE).")
    var smtpCAFile: String?
    @Option(
        name: .customLong("notify-webhook"),
        help:
            "URL that receives every notification as signed JSON (REGENT_NOTIFY_WEBHOOK); the key comes from REGENT_NOTIFY_WEBHOOK_SECRET."
    )
    var webhook: String?
    @Option(name: .customLong("notify-slack"), help: "Slack-compatible incoming webhook URL (REGENT_NOTIFY_SLACK).")
    var slack: String?

    func resolve(portalURL: String?) throws -> NotificationSettings {
        let environment = ProcessInfo.processInfo.environment
        var settings = NotificationSettings(portalURL: portalURL)
        let host = setting(smtpHost, "smtp-host", default: "")
        if !host.isEmpty {
            guard let port = Int(setting(smtpPort, "smtp-port", default: "587")), (1...65535).contains(port) else {
                throw ValidationError("--smtp-port is a port number")
            }
            guard
                let security = SMTPSettings.Security(
                    rawValue: setting(smtpSecurity, "smtp-security", default: "starttls"))
            else { throw ValidationError("--smtp-security is starttls or none") }
            let from = setting(smtpFrom, "smtp-from", default: "")
            guard from.contains("@") else { throw ValidationError("--smtp-from is the sender's address") }
            let username = setting(smtpUsername, "smtp-username", default: "")
            if !username.isEmpty && security == .none {
                throw ValidationError("SMTP credentials are only sent over STARTTLS; use --smtp-security starttls")
            }
            let caFile = setting(smtpCAFile, "smtp-ca-file", default: "")
            settings.smtp = SMTPSettings(
                host: host, port: port, from: from, security: security, username: username.isEmpty ? nil : username,
                password: environment["REGENT_SMTP_PASSWORD"], caFile: caFile.isEmpty ? nil : caFile)
        }
        settings.webhookURL = try url(setting(webhook, "notify-webhook", default: ""), "--notify-webhook")
        settings.webhookSecret = environment["REGENT_NOTIFY_WEBHOOK_SECRET"]
        settings.slackURL = try url(setting(slack, "notify-slack", default: ""), "--notify-slack")
        return settings
    }

    private func url(_ text: String, _ flag: String) throws -> URL? {
        guard !text.isEmpty else { return nil }
        guard let url = URL(string: text), ["http", "https"].contains(url.scheme) else {
            throw ValidationError("\(flag) is an http(s) URL")
        }
        return url
    }
}
