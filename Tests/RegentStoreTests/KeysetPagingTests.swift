import Foundation
import RegentAudit
import RegentCore
import RegentStore
import Testing

/// Lists are paged by keyset on both databases: pages of a list walked one after the other hold
/// every item once, in the list's order, even when items share a time, when the filter is decided
/// partly by scope, and when newer items arrive between two pages (an offset repeats one then).
struct KeysetPagingTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    /// Walks every page of a list of `limit` items at a time.
    func walk<Item: Sendable>(
        limit: Int, position: (Item) -> ListPosition, _ page: (ListPosition?) async throws -> [Item]
    ) async throws -> [[Item]] {
        var pages: [[Item]] = []
        var after: ListPosition?
        while true {
            let found = try await page(after)
            #expect(found.count <= limit)
            if found.isEmpty { break }
            pages.append(found)
            after = position(found[found.count - 1])
            if found.count < limit { break }
        }
        return pages
    }

    @Test(arguments: TestDatabase.available)
    func assignmentsNewestFirst(database: TestDatabase) async throws {
        try await database.withStore { store in
            let alice = try Principal(id: Principal.ID(UUID()), kind: .user, name: "alice", createdAt: Self.now)
            let role = try Role(id: Role.ID(UUID()), name: "dba", createdAt: Self.now)
            let prod = try Scope(parsing: "/prod")
            let dev = try Scope(parsing: "/dev")
            // Seven at /prod (three sharing one time), four at /dev between them.
            var made: [Assignment] = []
            for index in 0..<11 {
                let created = Self.now.addingTimeInterval(TimeInterval(index < 3 ? 0 : index))
                let (assignment, _) = Assignment.open(
                    id: Assignment.ID(UUID()), kind: .eligible, principalId: alice.id, roleId: role.id,
                    scope: index % 3 == 1 && index > 3 ? dev : prod, start: created, end: nil, requestId: nil,
                    activatedFrom: nil, now: created)
                made.append(assignment)
            }
            let all = made
            try await store.transaction { (tx) async throws in
                try await tx.insertPrincipal(alice, passwordHash: nil)
                try await tx.insertRole(role)
                for assignment in all { try await tx.saveAssignment(assignment) }
            }
            let underProd = AssignmentFilter(scope: try Scope(parsing: "/prod/db"))
            let pages = try await walk(limit: 2, position: ListPosition.init) { after in
                try await store.transaction { try await $0.assignments(underProd, limit: 2, after: after) }
            }
            let expected = all.filter { $0.scope == prod }.sorted {
                ($0.createdAt, $0.id.description) > ($1.createdAt, $1.id.description)
            }
            #expect(pages.flatMap { $0 } == expected)
            #expect(pages.dropLast().allSatisfy { $0.count == 2 }, "a scope filter never shortens a page")

            // A newer assignment arriving after the first page neither repeats nor hides an item.
            let first = try await store.transaction { try await $0.assignments(underProd, limit: 3) }
            let (newer, _) = Assignment.open(
                id: Assignment.ID(UUID()), kind: .eligible, principalId: alice.id, roleId: role.id, scope: prod,
                start: Self.now + 100, end: nil, requestId: nil, activatedFrom: nil, now: Self.now + 100)
            try await store.transaction { try await $0.saveAssignment(newer) }
            let rest = try await store.transaction {
                try await $0.assignments(underProd, limit: 100, after: ListPosition(first[2]))
            }
            #expect(first + rest == expected)
        }
    }

    @Test(arguments: TestDatabase.available)
    func principalsByName(database: TestDatabase) async throws {
        try await database.withStore { store in
            let names = ["zoe", "adam", "mia", "bob", "carol", "dave", "eve"]
            try await store.transaction { (tx) async throws in
                for name in names {
                    try await tx.insertPrincipal(
                        try Principal(id: Principal.ID(UUID()), kind: .user, name: name, createdAt: Self.now),
                        passwordHash: nil)
                }
            }
            let pages = try await walk(limit: 3, position: ListPosition.init) { after in
                try await store.transaction { try await $0.principals(limit: 3, after: after) }
            }
            #expect(pages.map { $0.map(\.name) } == [["adam", "bob", "carol"], ["dave", "eve", "mia"], ["zoe"]])
        }
    }
}
