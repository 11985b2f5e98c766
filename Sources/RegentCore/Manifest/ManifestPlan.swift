/// One change a plan makes: an object created, updated (with each field that differs) or deleted.
public struct ManifestChange: Hashable, Sendable, Codable {
    public enum Action: String, Hashable, Sendable, Codable {
        case create, update, delete
    }

    /// A field as it is live and as the manifest wants it; nil where it is absent on that side.
    public struct FieldChange: Hashable, Sendable, Codable {
        /// Dotted, from the object's top level: `activation.maximumDuration`.
        public var path: String
        public var before: JSONValue?
        public var after: JSONValue?

        public init(path: String, before: JSONValue?, after: JSONValue?) {
            self.path = path
            self.before = before
            self.after = after
        }
    }

    public var action: Action
    public var key: ManifestObject.Key
    public var fields: [FieldChange]

    public init(_ action: Action, _ key: ManifestObject.Key, fields: [FieldChange] = []) {
        self.action = action
        self.key = key
        self.fields = fields
    }
}

/// The pure comparison behind `regent plan`: the live state and the manifest, as objects named by
/// kind and name, give the changes that make the live state what the manifest says. An object is
/// known by its name, so a rename is a delete and a create. Objects the manifest does not name are
/// left alone, but for those an earlier apply created (managed ones), which `prune` deletes.
public enum ManifestPlan {
    public static func changes(
        live: [ManifestObject], desired: [ManifestObject], managed: Set<ManifestObject.Key>, prune: Bool
    ) -> [ManifestChange] {
        let liveByKey = Dictionary(live.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        let desiredKeys = Set(desired.map(\.key))
        var forward: [ManifestChange] = []
        for object in desired.sorted(by: { $0.key < $1.key }) {
            guard let current = liveByKey[object.key] else {
                forward.append(ManifestChange(.create, object.key, fields: difference(from: [:], to: object.fields)))
                continue
            }
            let fields = difference(from: current.fields, to: object.fields)
            if !fields.isEmpty { forward.append(ManifestChange(.update, object.key, fields: fields)) }
        }
        // Deletes after every create and update, dependents first: an eligibility goes before its
        // role, a role before its target, and a policy no longer names a group by the time it goes.
        let deletes =
            prune
            ? live.map(\.key).filter { managed.contains($0) && !desiredKeys.contains($0) }
                .sorted { ($0.kind, $0.name) > ($1.kind, $1.name) }
                .map { key in
                    ManifestChange(.delete, key, fields: difference(from: liveByKey[key]?.fields ?? [:], to: [:]))
                } : []
        return forward + deletes
    }

    /// The fields that differ, by dotted path; objects (also one that only one side has) are compared
    /// field by field, anything else (a list, a string) as a whole.
    static func difference(from before: [String: JSONValue], to after: [String: JSONValue], prefix: String = "")
        -> [ManifestChange.FieldChange]
    {
        var changes: [ManifestChange.FieldChange] = []
        for name in Set(before.keys).union(after.keys).sorted() {
            let path = prefix.isEmpty ? name : "\(prefix).\(name)"
            switch (before[name], after[name]) {
            case (.object(let old)?, .object(let new)?):
                changes += difference(from: old, to: new, prefix: path)
            case (.object(let old)?, nil):
                changes += difference(from: old, to: [:], prefix: path)
            case (nil, .object(let new)?):
                changes += difference(from: [:], to: new, prefix: path)
            case (let old, let new) where old != new:
                changes.append(ManifestChange.FieldChange(path: path, before: old, after: new))
            default:
                break
            }
        }
        return changes
    }
}
