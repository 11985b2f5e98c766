import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import RegentCore

/// A small SMTP client (RFC 5321) over SwiftNIO: EHLO, STARTTLS (RFC 3207) with certificate
/// verification, AUTH PLAIN (RFC 4616) only over TLS, one message per session. Written here
/// because no SMTP library is on the mirror; it sends Regent's own plain-text notifications and
/// nothing else. Replies in 4xx, and network or TLS failures, are transient; 5xx are permanent.
struct SMTPClient: Sendable {
    let settings: SMTPSettings
    var timeout: TimeAmount = .seconds(30)

    struct Mail: Sendable {
        var to: String
        var subject: String
        var body: String
        var messageId: String
    }

    func send(_ mail: Mail) async throws(ExternalFailure) {
        guard Self.isAddress(mail.to), Self.isAddress(settings.from) else {
            throw ExternalFailure(transient: false, "not a deliverable address: \(mail.to)")
        }
        do {
            try await session(mail)
        } catch let error as ExternalFailure {
            throw error
        } catch {
            throw ExternalFailure(transient: true, "SMTP \(settings.host):\(settings.port): \(error)")
        }
    }

    func session(_ mail: Mail) async throws {
        let (stream, continuation) = AsyncThrowingStream<String, any Error>.makeStream()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(SMTPLineHandler(continuation: continuation))
                }
            }
            .connect(host: settings.host, port: settings.port).get()
        // The whole conversation has one deadline: closing the channel ends the reply stream.
        let deadline = channel.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
        defer {
            deadline.cancel()
            channel.close(promise: nil)
        }
        var replies = SMTPReplies(lines: stream.makeAsyncIterator())
        func command(_ line: String, expect: ClosedRange<Int>) async throws -> [String] {
            try await channel.writeAndFlush(ByteBuffer(string: line + "\r\n"))
            return try await replies.next(
                expect: expect, after: line.hasPrefix("AUTH") ? "AUTH" : String(line.prefix(40)))
        }
        _ = try await replies.next(expect: 220...220, after: "connect")
        let hello = "EHLO regent.invalid"
        let extensions = try await command(hello, expect: 250...250)
        var encrypted = false
        if settings.security == .starttls {
            guard extensions.contains(where: { $0.uppercased().hasPrefix("STARTTLS") }) else {
                throw ExternalFailure(transient: true, "\(settings.host) does not offer STARTTLS")
            }
            _ = try await command("STARTTLS", expect: 220...220)
            var tls = TLSConfiguration.makeClientConfiguration()
            if let caFile = settings.caFile { tls.trustRoots = .file(caFile) }
            let context = try NIOSSLContext(configuration: tls)
            let host = settings.host
            let hostname: String? = Self.isIPAddress(host) ? nil : host
            try await channel.eventLoop.submit {
                try channel.pipeline.syncOperations.addHandler(
                    try NIOSSLClientHandler(context: context, serverHostname: hostname), position: .first)
            }.get()
            encrypted = true
            // After TLS the server says its extensions again (RFC 3207 §4.2); AUTH comes from there.
            _ = try await command(hello, expect: 250...250)
        }
        if let username = settings.username {
            guard encrypted else {
                throw ExternalFailure(transient: false, "refusing to send SMTP credentials without TLS")
            }
            let token = Data("\u{0}\(username)\u{0}\(settings.password ?? "")".utf8).base64EncodedString()
            _ = try await command("AUTH PLAIN \(token)", expect: 235...235)
        }
        _ = try await command("MAIL FROM:<\(settings.from)>", expect: 250...250)
        _ = try await command("RCPT TO:<\(mail.to)>", expect: 250...251)
        _ = try await command("DATA", expect: 354...354)
        // Dot-stuffing (RFC 5321 §4.5.2), then the terminating line.
        let data = Self.message(mail, from: settings.from, date: Date()).replacingOccurrences(
            of: "\r\n.", with: "\r\n..")
        _ = try await command(data + "\r\n.", expect: 250...250)
        _ = try? await command("QUIT", expect: 221...221)
    }

    /// The message: headers (the subject RFC 2047-encoded, no line breaks anywhere a header
    /// could be injected) and the body in base64, so any text travels unchanged.
    static func message(_ mail: Mail, from: String, date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        let subject = mail.subject.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        let encodedSubject = "=?UTF-8?B?\(Data(subject.utf8).base64EncodedString())?="
        let body = Data(mail.body.utf8).base64EncodedString(options: [
            .lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed,
        ])
        return [
            "From: Regent <\(from)>", "To: <\(mail.to)>", "Subject: \(encodedSubject)",
            "Date: \(formatter.string(from: date))", "Message-ID: <\(mail.messageId)@regent>", "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: base64", "", body,
        ].joined(separator: "\r\n")
    }

    /// A plain `local@domain` with nothing that could break out of an SMTP command or header.
    static func isAddress(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty && text.count <= 254
            && text.unicodeScalars.allSatisfy {
                $0.value > 32 && $0.value < 127 && !"<>()[]\\,;:\"".unicodeScalars.contains($0)
            }
    }

    static func isIPAddress(_ host: String) -> Bool {
        host.contains(":") || host.split(separator: ".").count == 4 && host.allSatisfy { $0.isNumber || $0 == "." }
    }
}

/// Reads SMTP replies (a code, then `-` on every line but the last) from the line stream.
struct SMTPReplies {
    var lines: AsyncThrowingStream<String, any Error>.AsyncIterator

    mutating func next(expect: ClosedRange<Int>, after command: String) async throws -> [String] {
        var text: [String] = []
        while true {
            guard let line = try await lines.next() else {
                throw ExternalFailure(transient: true, "the SMTP server closed the connection after \(command)")
            }
            guard line.count >= 3, let code = Int(line.prefix(3)) else {
                throw ExternalFailure(transient: true, "not an SMTP reply after \(command): \(line.prefix(200))")
            }
            text.append(String(line.dropFirst(4)))
            guard line.dropFirst(3).first == "-" else {
                guard expect.contains(code) else {
                    throw ExternalFailure(
                        transient: !(500..<600).contains(code), "\(command) answered \(line.prefix(300))")
                }
                return text
            }
        }
    }
}

/// Splits the incoming bytes into lines (CRLF or LF) for ``SMTPReplies``.
final class SMTPLineHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    let continuation: AsyncThrowingStream<String, any Error>.Continuation
    var pending = ByteBuffer()

    init(continuation: AsyncThrowingStream<String, any Error>.Continuation) { self.continuation = continuation }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        pending.writeBuffer(&incoming)
        while let newline = pending.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
            let length = newline - pending.readerIndex + 1
            guard var line = pending.readString(length: length) else { break }
            while line.last == "\n" || line.last == "\r" { line.removeLast() }
            continuation.yield(line)
        }
        if pending.readableBytes > 64 * 1024 {
            continuation.finish(throwing: ExternalFailure(transient: true, "SMTP reply line too long"))
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        continuation.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        continuation.finish(throwing: error)
        context.close(promise: nil)
    }
}
