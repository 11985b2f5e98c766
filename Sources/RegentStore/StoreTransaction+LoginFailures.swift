public import Foundation
import RegentAudit
import SQLKit

/// Failed sign-ins counted under one key (`user:alice`, `address:10.0.0.1`).
public struct LoginFailures: Hashable, Sendable {
    public var key: String
    public var failures: Int
    public var windowStart: Date
    public var lockedUntil: Date?

    public init(key: String, failures: Int, windowStart: Date, lockedUntil: Date?) {
        self.key = key
        self.failures = failures
        self.windowStart = windowStart
        self.lockedUntil = lockedUntil
    }
}

extension StoreTransaction {
    public func loginFailures(_ key: String) async throws -> LoginFailures? {
        guard let row = try await db.raw("SELECT * FROM login_failures WHERE key = \(bind: key)").first() else {
            return nil
        }
        return LoginFailures(
            key: key, failures: Int(try row.int64("failures")), windowStart: try row.date("window_start"),
            lockedUntil: try row.optionalDate("locked_until"))
    }

    public func saveLoginFailures(_ record: LoginFailures) async throws {
        try await clearLoginFailures(record.key)
        try await db.raw(
            """
            INSERT INTO login_failures (key, failures, window_start, locked_until)
            VALUES (\(bind: record.key), \(bind: record.failures), \(bind: record.windowStart.milliseconds),
                    \(bind: record.lockedUntil?.milliseconds))
            """
        ).run()
    }

    public func clearLoginFailures(_ key: String) async throws {
        try await db.raw("DELETE FROM login_failures WHERE key = \(bind: key)").run()
    }
}
