import Foundation
public import RegentCore
import RegentStore

/// A slice of a longer list.
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    /// Where the next page starts; nil on the last page.
    public var next: ListPosition?

    func map<Other>(_ transform: (Item) -> Other) -> Page<Other> {
        Page<Other>(items: items.map(transform), next: next)
    }
}

/// Listings for the API, each with its read rule: everyone's data for administrators and security
/// readers, one's own for everyone else.
extension Engine {

    /// A page of `limit` items from `limit + 1` read, which tells whether another page follows; it
    /// continues after the position of the last item shown.
    func page<Item>(_ items: [Item], limit: Int, position: (Item) -> ListPosition) -> Page<Item> {
        let shown = Array(items.prefix(limit))
        return Page(items: shown, next: items.count > limit ? shown.last.map(position) : nil)
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
