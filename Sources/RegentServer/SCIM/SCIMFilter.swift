import Foundation
import RegentCore

/// An attribute path: `userName`, `emails.value`, `name.givenName`, or the same with the schema
/// URN before it (`urn:ietf:params:scim:schemas:core:2.0:User:userName`).
struct SCIMPath: Sendable, Equatable, CustomStringConvertible {
    var attribute: String
    var subAttribute: String?

    /// The URN prefixes Regent's resources answer to; anything else names an attribute Regent
    /// does not have.
    static let schemas = [
        "urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:core:2.0:Group",
    ]

    init(attribute: String, subAttribute: String? = nil) {
        self.attribute = attribute
        self.subAttribute = subAttribute
    }

    /// The enterprise user extension: Regent keeps none of it, and takes it without complaint so
    /// that a directory's default mapping works.
    static let enterpriseExtension = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

    init(parsing text: String) throws(SCIMError) {
        var rest = text
        if rest.lowercased().hasPrefix(Self.enterpriseExtension.lowercased()) {
            attribute = Self.enterpriseExtension
            subAttribute = nil
            return
        }
        if rest.lowercased().hasPrefix("urn:") {
            guard let schema = Self.schemas.first(where: { rest.lowercased().hasPrefix($0.lowercased() + ":") }) else {
                throw .invalidPath("\(text) is not an attribute of Regent's users or groups")
            }
            rest = String(rest.dropFirst(schema.count + 1))
        }
        let parts = rest.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard (1...2).contains(parts.count), parts.allSatisfy(Self.isName) else {
            throw .invalidPath("\(text) is not an attribute path")
        }
        attribute = parts[0]
        subAttribute = parts.count == 2 ? parts[1] : nil
    }

    static func isName(_ part: String) -> Bool {
        guard let first = part.first, first.isASCII, first.isLetter || first == "$" else { return false }
        return part.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "$") }
    }

    var description: String { subAttribute.map { "\(attribute).\($0)" } ?? attribute }
}

/// A SCIM filter (RFC 7644 §3.4.2.2): comparisons, presence, `and`/`or`/`not`, parentheses and
/// value paths (`emails[type eq "work"]`), evaluated over a resource's JSON.
indirect enum SCIMFilter: Sendable, Equatable {
    enum Operator: String, Sendable, CaseIterable {
        case eq, ne, co, sw, ew, gt, ge, lt, le
    }

    case present(SCIMPath)
    case compare(SCIMPath, Operator, SCIMValue)
    case and(SCIMFilter, SCIMFilter)
    case or(SCIMFilter, SCIMFilter)
    case not(SCIMFilter)
    /// `attribute[filter]`: some value of the multi-valued attribute matches the inner filter,
    /// whose paths name its sub-attributes.
    case valuePath(String, SCIMFilter)

    /// Attributes compared exactly; every other string compares without case.
    static let caseExact: Set<String> = ["id", "externalid", "members.value", "groups.value"]

    static let maximumLength = 4096
    static let maximumDepth = 32

    init(parsing text: String) throws(SCIMError) {
        guard text.count <= Self.maximumLength else { throw .invalidFilter("the filter is too long") }
        var parser = Parser(tokens: try Self.tokens(text))
        self = try parser.filter(depth: 0)
        guard parser.atEnd else { throw .invalidFilter("unexpected \(parser.peekDescription) in the filter") }
    }

    /// Whether the resource (its top-level JSON object) matches.
    func matches(_ resource: [String: SCIMValue]) -> Bool {
        switch self {
        case .present(let path): return Self.values(at: path, in: resource).contains { !$0.isUnassigned }
        case .compare(let path, let op, let operand):
            let exact = Self.caseExact.contains(path.description.lowercased())
            return Self.values(at: path, in: resource).contains { Self.compare($0, op, operand, caseExact: exact) }
        case .and(let a, let b): return a.matches(resource) && b.matches(resource)
        case .or(let a, let b): return a.matches(resource) || b.matches(resource)
        case .not(let inner): return !inner.matches(resource)
        case .valuePath(let attribute, let inner):
            return (resource[attribute: attribute]?.array ?? []).contains { element in
                element.object.map { inner.matches($0) } ?? false
            }
        }
    }

    /// A simple `eq` on one attribute, which the store answers without reading every resource.
    var equality: (attribute: String, value: String)? {
        guard case .compare(let path, .eq, .string(let value)) = self, path.subAttribute == nil else { return nil }
        return (path.attribute.lowercased(), value)
    }

    static func values(at path: SCIMPath, in resource: [String: SCIMValue]) -> [SCIMValue] {
        guard let value = resource[attribute: path.attribute] else { return [] }
        let elements = value.array ?? [value]
        guard let sub = path.subAttribute else { return elements }
        return elements.compactMap { $0.object?[attribute: sub] }
    }

    static func compare(_ value: SCIMValue, _ op: Operator, _ operand: SCIMValue, caseExact: Bool) -> Bool {
        switch (value, operand) {
        case (.string(let a), .string(let b)):
            let (x, y) = caseExact ? (a, b) : (a.lowercased(), b.lowercased())
            switch op {
            case .eq: return x == y
            case .ne: return x != y
            case .co: return x.contains(y)
            case .sw: return x.hasPrefix(y)
            case .ew: return x.hasSuffix(y)
            case .gt: return x > y
            case .ge: return x >= y
            case .lt: return x < y
            case .le: return x <= y
            }
        case (.number(let a), .number(let b)):
            switch op {
            case .eq: return a == b
            case .ne: return a != b
            case .gt: return a > b
            case .ge: return a >= b
            case .lt: return a < b
            case .le: return a <= b
            default: return false
            }
        case (.bool(let a), .bool(let b)):
            return op == .eq ? a == b : op == .ne ? a != b : false
        case (_, .null):
            return op == .eq ? value == .null : op == .ne ? value != .null : false
        default:
            return op == .ne
        }
    }

    // MARK: Parsing

    enum Token: Equatable {
        case word(String)
        case string(String)
        case open, close, openBracket, closeBracket
    }

    static func tokens(_ text: String) throws(SCIMError) -> [Token] {
        var tokens: [Token] = []
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            switch character {
            case " ", "\t":
                index = text.index(after: index)
            case "(": tokens.append(.open); index = text.index(after: index)
            case ")": tokens.append(.close); index = text.index(after: index)
            case "[": tokens.append(.openBracket); index = text.index(after: index)
            case "]": tokens.append(.closeBracket); index = text.index(after: index)
            case "\"":
                var end = text.index(after: index)
                var escaped = false
                while end < text.endIndex, escaped || text[end] != "\"" {
                    escaped = !escaped && text[end] == "\\"
                    end = text.index(after: end)
                }
                guard end < text.endIndex else { throw .invalidFilter("a string in the filter is not closed") }
                let literal = String(text[index...end])
                guard let decoded = try? JSONDecoder().decode(String.self, from: Data(literal.utf8)) else {
                    throw .invalidFilter("\(literal) is not a valid string")
                }
                tokens.append(.string(decoded))
                index = text.index(after: end)
            default:
                var end = index
                while end < text.endIndex, !" \t()[]\"".contains(text[end]) { end = text.index(after: end) }
                tokens.append(.word(String(text[index..<end])))
                index = end
            }
        }
        return tokens
    }

    struct Parser {
        var tokens: [Token]
        var position = 0

        var atEnd: Bool { position >= tokens.count }
        var peek: Token? { atEnd ? nil : tokens[position] }
        var peekDescription: String {
            switch peek {
            case .word(let word): "'\(word)'"
            case .string(let string): "\"\(string)\""
            case .open: "'('"
            case .close: "')'"
            case .openBracket: "'['"
            case .closeBracket: "']'"
            case nil: "the end"
            }
        }

        mutating func keyword(_ word: String) -> Bool {
            guard case .word(let next) = peek, next.lowercased() == word else { return false }
            position += 1
            return true
        }

        /// or-expression: and-expressions joined by `or` (`and` binds tighter).
        mutating func filter(depth: Int) throws(SCIMError) -> SCIMFilter {
            guard depth < SCIMFilter.maximumDepth else { throw .invalidFilter("the filter is nested too deeply") }
            var left = try conjunction(depth: depth)
            while keyword("or") { left = .or(left, try conjunction(depth: depth)) }
            return left
        }

        mutating func conjunction(depth: Int) throws(SCIMError) -> SCIMFilter {
            var left = try term(depth: depth)
            while keyword("and") { left = .and(left, try term(depth: depth)) }
            return left
        }

        mutating func term(depth: Int) throws(SCIMError) -> SCIMFilter {
            if keyword("not") {
                guard peek == .open else { throw .invalidFilter("'not' must be followed by '('") }
                return .not(try term(depth: depth + 1))
            }
            if peek == .open {
                position += 1
                let inner = try filter(depth: depth + 1)
                guard peek == .close else { throw .invalidFilter("expected ')' but found \(peekDescription)") }
                position += 1
                return inner
            }
            guard case .word(let pathText) = peek else {
                throw .invalidFilter("expected an attribute but found \(peekDescription)")
            }
            position += 1
            if peek == .openBracket {
                position += 1
                let attribute = try SCIMPath(parsing: pathText)
                guard attribute.subAttribute == nil else {
                    throw .invalidFilter("a value path is an attribute, then [filter]")
                }
                let inner = try filter(depth: depth + 1)
                guard peek == .closeBracket else { throw .invalidFilter("expected ']' but found \(peekDescription)") }
                position += 1
                return .valuePath(attribute.attribute, inner)
            }
            let path: SCIMPath
            do { path = try SCIMPath(parsing: pathText) } catch { throw .invalidFilter(error.detail) }
            guard case .word(let opText) = peek else {
                throw .invalidFilter("expected an operator after \(pathText) but found \(peekDescription)")
            }
            position += 1
            if opText.lowercased() == "pr" { return .present(path) }
            guard let op = Operator(rawValue: opText.lowercased()) else {
                throw .invalidFilter("\(opText) is not a SCIM operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr)")
            }
            return .compare(path, op, try operand())
        }

        mutating func operand() throws(SCIMError) -> SCIMValue {
            switch peek {
            case .string(let string):
                position += 1
                return .string(string)
            case .word(let word):
                position += 1
                switch word.lowercased() {
                case "true": return .bool(true)
                case "false": return .bool(false)
                case "null": return .null
                default:
                    guard let number = Double(word) else { throw .invalidFilter("\(word) is not a value") }
                    return .number(number)
                }
            default:
                throw .invalidFilter("expected a value but found \(peekDescription)")
            }
        }
    }
}
