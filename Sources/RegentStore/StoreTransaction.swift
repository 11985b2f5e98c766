import Foundation
import RegentAudit
import RegentCore
import SQLKit

/// The operations of one transaction. Each entity's statements live in `StoreTransaction+Entity.swift`.
public struct StoreTransaction: Sendable {
    let db: any SQLDatabase
    let dialect: StoreDialect
    /// This process, as the leases it takes name it.
    let replica: String
    /// What this transaction changed of the state replicas keep in memory.
    let recorder: ChangeRecorder

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .millisecondsSince1970
        return encoder
    }()
    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        return decoder
    }()

    func json<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try Self.encoder.encode(value), as: UTF8.self)
    }

    func decodeJSON<T: Decodable>(_ type: T.Type, _ text: String, _ what: String) throws -> T {
        do {
            return try Self.decoder.decode(type, from: Data(text.utf8))
        } catch {
            throw StoreError.corrupt("\(what): \(error)")
        }
    }

    /// A key-value setting (bootstrap markers, key ids).
    public func setting(_ key: String) async throws -> String? {
        try await db.raw("SELECT value FROM settings WHERE key = \(bind: key)").first()?.decode(
            column: "value", as: String.self)
    }

    public func setSetting(_ key: String, _ value: String) async throws {
        try await db.raw("DELETE FROM settings WHERE key = \(bind: key)").run()
        try await db.raw("INSERT INTO settings (key, value) VALUES (\(bind: key), \(bind: value))").run()
    }
}

extension SQLRow {
    func string(_ column: String) throws -> String { try decode(column: column, as: String.self) }
    func optionalString(_ column: String) throws -> String? { try decode(column: column, as: String?.self) }
    func int64(_ column: String) throws -> Int64 { try decode(column: column, as: Int64.self) }
    func optionalInt64(_ column: String) throws -> Int64? { try decode(column: column, as: Int64?.self) }
    func date(_ column: String) throws -> Date { Date(milliseconds: try int64(column)) }
    func optionalDate(_ column: String) throws -> Date? { try optionalInt64(column).map(Date.init(milliseconds:)) }

    func id<T>(_ column: String) throws -> Identifier<T> {
        guard let id = Identifier<T>(try string(column)) else { throw StoreError.corrupt("\(column) is not a UUID") }
        return id
    }

    func optionalID<T>(_ column: String) throws -> Identifier<T>? {
        guard let text = try optionalString(column) else { return nil }
        guard let id = Identifier<T>(text) else { throw StoreError.corrupt("\(column) is not a UUID") }
        return id
    }

    func scope(_ column: String) throws -> Scope {
        do { return try Scope(parsing: try string(column)) } catch { throw StoreError.corrupt("\(column): \(error)") }
    }

    func enumValue<E: RawRepresentable>(_ column: String, as type: E.Type) throws -> E where E.RawValue == String {
        let text = try string(column)
        guard let value = E(rawValue: text) else { throw StoreError.corrupt("\(column) has unknown value \(text)") }
        return value
    }
}
