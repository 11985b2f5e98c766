/// A value that travels as one string and is parsed strictly (a duration, a scope, a CIDR): JSON
/// coding goes through the same parser as every other input, so stored data is checked on read.
public protocol TextCoded: Codable {
    init(parsing text: String, field: String) throws(RegentError)
    var text: String { get }
}

extension TextCoded {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do {
            try self.init(parsing: text, field: decoder.codingPath.last?.stringValue ?? "value")
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.reason))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }
}
