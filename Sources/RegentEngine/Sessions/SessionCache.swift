import Foundation
import RegentCore
import Synchronization

/// Recently authenticated bearer secrets, so hot endpoints (`/v1/check`) do not read the database on
/// every call. Entries live at most `lifetime`; this replica drops them at once on logout, token
/// revocation and MFA changes, so `lifetime` bounds only changes made elsewhere (another replica,
/// a disabled principal).
final class SessionCache: Sendable {
    struct Entry {
        var session: Authenticated
        var cachedAt: Date
        var lastSeenWritten: Date
    }

    let entries = Mutex<[String: Entry]>([:])
    let lifetime: TimeInterval

    init(lifetime: TimeInterval) { self.lifetime = lifetime }

    func lookup(_ tokenHash: String, now: Date) -> Entry? {
        entries.withLock { entries in
            guard let entry = entries[tokenHash] else { return nil }
            guard now.timeIntervalSince(entry.cachedAt) < lifetime, now < entry.session.expiresAt else {
                return nil
            }
            return entry
        }
    }

    /// A session this replica authenticated before, whatever its age in the cache, while it has
    /// not ended nor been idle too long: used only while the database does not answer.
    func lookupKnown(_ tokenHash: String, now: Date, idle: TimeInterval) -> Authenticated? {
        entries.withLock { entries in
            guard let entry = entries[tokenHash], now < entry.session.expiresAt,
                entry.session.isAPIToken || now.timeIntervalSince(entry.lastSeenWritten) < idle
            else { return nil }
            return entry.session
        }
    }

    func store(_ session: Authenticated, lastSeenWritten: Date, now: Date) {
        entries.withLock { entries in
            if entries.count > 100_000 { entries.removeAll() }
            entries[session.tokenHash] = Entry(session: session, cachedAt: now, lastSeenWritten: lastSeenWritten)
        }
    }

    func invalidate(_ tokenHash: String) { _ = entries.withLock { $0.removeValue(forKey: tokenHash) } }

    func invalidateAll() { entries.withLock { $0.removeAll() } }
}

/// Ids by name or id text. Principals and roles are never renamed or deleted, so entries never go
/// stale; only existing ones are remembered.
final class NameCache: Sendable {
    let principals = Mutex<[String: Principal.ID]>([:])
    let roles = Mutex<[String: Role.ID]>([:])
    let readers = Mutex<[Principal.ID: (Bool, Date)]>([:])

    func principal(_ reference: String) -> Principal.ID? { principals.withLock { $0[reference] } }
    func role(_ reference: String) -> Role.ID? { roles.withLock { $0[reference] } }

    func remember(_ principal: Principal) {
        principals.withLock {
            $0[principal.name] = principal.id
            $0[principal.id.description] = principal.id
        }
    }

    func remember(_ role: Role) {
        roles.withLock {
            $0[role.name] = role.id
            $0[role.id.description] = role.id
        }
    }

    /// Whether a principal may read everything, as decided at most `lifetime` ago.
    func mayReadAll(_ principal: Principal.ID, now: Date, lifetime: TimeInterval) -> Bool? {
        readers.withLock { entry in
            guard let (answer, decidedAt) = entry[principal], now.timeIntervalSince(decidedAt) < lifetime else {
                return nil
            }
            return answer
        }
    }

    func rememberMayReadAll(_ principal: Principal.ID, _ answer: Bool, now: Date) {
        readers.withLock { $0[principal] = (answer, now) }
    }

    /// Another replica changed assignments or memberships: every "may read all" is decided anew.
    func forgetReaders() { readers.withLock { $0.removeAll() } }
}
