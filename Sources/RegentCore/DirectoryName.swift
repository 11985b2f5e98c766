public import Foundation

/// A name as the organisation's directory spells it (`Zoë.O'Brien@Contoso.com`): kept as given for
/// display, SCIM and matching, with the safe Regent name (``Principal/validatedName(_:field:)``)
/// derived from it once, when the principal is made, for scopes and target account templates.
public enum DirectoryName {
    /// The case-insensitive form two directory names are compared in (SCIM's `userName` is not
    /// case-exact): Unicode-canonical and lowercased.
    public static func matchingKey(_ name: String) -> String {
        name.precomposedStringWithCanonicalMapping.lowercased()
    }

    /// Letters that do not decompose into a base letter and a mark, spelled in Regent's alphabet.
    private static let spelled: [Character: String] = [
        "ß": "ss", "æ": "ae", "ø": "o", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i",
    ]
    /// Marks that are dropped rather than turned into a separator (O'Brien → obrien).
    private static let dropped: Set<Character> = ["'", "’", "‘", "`", "´", "\""]
    private static let alphabet = Set("abcdefghijklmnopqrstuvwxyz0123456789._@+-")

    /// The Regent name for a directory name: lowercased, accents removed, apostrophes dropped, any
    /// other character outside `a-z 0-9 . _ @ + -` turned into `-` (runs collapsed), starting with
    /// a letter or digit, at most 128 characters. Two people whose names derive to the same Regent
    /// name are a collision the caller refuses; they are never merged.
    public static func regentName(for name: String, field: String = "userName") throws(RegentError) -> String {
        let folded = name.lowercased().folding(options: [.diacriticInsensitive, .widthInsensitive], locale: nil)
        var result = ""
        for character in folded {
            if alphabet.contains(character) {
                result.append(character)
            } else if let spelling = spelled[character] {
                result += spelling
            } else if dropped.contains(character) {
                continue
            } else if result.last != "-" {
                result.append("-")
            }
        }
        var trimmed = String(result.drop { !($0.isLetter || $0.isNumber) }.prefix(128))
        while trimmed.last == "-" { trimmed.removeLast() }
        guard !trimmed.isEmpty else {
            throw RegentError.invalid(field, "the name has no letter or digit Regent can use")
        }
        return try Principal.validatedName(trimmed, field: field)
    }
}
