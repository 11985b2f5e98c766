public import Foundation
public import RegentCore
import RegentAudit
import SQLKit

// Which objects policy as code owns: those an apply created or took over.

extension StoreTransaction {
    public func managedObjects() async throws -> Set<ManifestObject.Key> {
        var keys: Set<ManifestObject.Key> = []
        for row in try await db.raw("SELECT kind, name FROM manifest_objects").all() {
            guard let kind = ManifestKind(rawValue: try row.decode(column: "kind", as: String.self)) else { continue }
            keys.insert(ManifestObject.Key(kind, try row.decode(column: "name", as: String.self)))
        }
        return keys
    }

    public func isManaged(_ key: ManifestObject.Key) async throws -> Bool {
        try await db.raw(
            "SELECT 1 AS found FROM manifest_objects WHERE kind = \(bind: key.kind.rawValue) AND name = \(bind: key.name)"
        ).first() != nil
    }

    /// Marks the objects as owned by the manifest `manifest` (its SHA-256), once each.
    public func markManaged(_ keys: [ManifestObject.Key], manifest: String, at time: Date) async throws {
        for key in keys {
            try await db.raw(
                """
                INSERT INTO manifest_objects (kind, name, manifest, applied_at)
                VALUES (\(bind: key.kind.rawValue), \(bind: key.name), \(bind: manifest), \(bind: time.milliseconds))
                ON CONFLICT (kind, name) DO UPDATE SET manifest = excluded.manifest, applied_at = excluded.applied_at
                """
            ).run()
        }
    }

    public func unmarkManaged(_ keys: [ManifestObject.Key]) async throws {
        for key in keys {
            try await db.raw(
                "DELETE FROM manifest_objects WHERE kind = \(bind: key.kind.rawValue) AND name = \(bind: key.name)"
            ).run()
        }
    }
}
