import Foundation
public import RegentCore
import RegentStore

/// A slice of a longer list; `nextOffset` is nil on the last page.
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    public var nextOffset: Int?
}

/// Listings for the API, each with its read rule: everyone's data for administrators and security
/// readers, one's own for everyone else.
extension Engine {

    /// A page of `limit` items from `limit + 1` read, which tells whether another page follows.
    func page<Item>(_ items: [Item], offset: Int, limit: Int) -> Page<Item> {
        Page(items: Array(items.prefix(limit)), nextOffset: items.count > limit ? offset + limit : nil)
    }
}

extension Engine {
    /// One live assignment of the actor (their own or a group's), with the role's name and what
    /// is left of it.
    public struct HeldRole: Sendable {
        public var assignment: Assignment
        public var roleName: String
        /// Seconds until it ends; nil when permanent.
        public var secondsLeft: Int?
        /// The group it comes through, when not the actor's own.
        public var viaGroup: Principal.ID?
    }

}
