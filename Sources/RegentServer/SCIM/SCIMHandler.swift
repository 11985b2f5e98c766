import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import RegentCore
import RegentEngine

/// The SCIM 2.0 service provider at `/scim/v2` (RFC 7644): discovery, `Users` and `Groups`.
/// It is outside the OpenAPI spec because SCIM is its own protocol with its own schema (served
/// at `/Schemas`), media type and error format. Every request needs a SCIM bearer token, which is
/// good for nothing else; every answer, errors included, is `application/scim+json`.
struct SCIMHandler: Sendable {
    let engine: Engine
    /// The absolute URL of `/scim/v2`, for `meta.location` and `$ref`.
    let base: String
    let discovery: SCIMDiscovery

    static let prefix = "/scim/v2"
    static let mediaType = "application/scim+json"
    static let defaultCount = 100
    static let maximumCount = 1000

    func register(on router: Router<RegentRequestContext>) {
        for method in [HTTPRequest.Method.get, .post, .put, .patch, .delete] {
            router.on("scim/v2/**", method: method) { request, context in await respond(request, context: context) }
        }
    }

    func respond(_ request: Request, context: RegentRequestContext) async -> Response {
        do {
            var client = try await authenticate(request)
            client.sourceAddress = context.remoteAddress?.ipAddress
            client.userAgent = request.headers[.userAgent].map { String($0.prefix(256)) }
            return try await route(request, client: client)
        } catch let error as SCIMError {
            return Self.response(
                error.body, status: error.status,
                extra: error.status == .unauthorized
                    ? [
                        HTTPField(name: .wwwAuthenticate, value: "Bearer realm=\"regent-scim\"")
                    ] : [])
        } catch let error as RegentError {
            let scim = SCIMError(error)
            return Self.response(scim.body, status: scim.status)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            let scim = SCIMError(status: .contentTooLarge, scimType: "tooMany", detail: "the body is over 1 MiB")
            return Self.response(scim.body, status: scim.status)
        } catch {
            context.logger.error("SCIM request failed", metadata: ["error": "\(error)"])
            let scim = SCIMError(status: .internalServerError, scimType: nil, detail: "internal error")
            return Self.response(scim.body, status: scim.status)
        }
    }

    func authenticate(_ request: Request) async throws -> DirectoryClient {
        guard let header = request.headers[.authorization] else { throw SCIMError.unauthenticated }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer",
            let client = try await engine.directorySync.authenticate(token: String(parts[1]))
        else { throw SCIMError.unauthenticated }
        return client
    }

    func route(_ request: Request, client: DirectoryClient) async throws -> Response {
        let path = request.uri.path.dropFirst(Self.prefix.count)
        let segments = path.split(separator: "/").map(String.init)
        let method = request.method
        func only(_ allowed: HTTPRequest.Method...) throws {
            guard allowed.contains(method) else {
                throw SCIMError(
                    status: .methodNotAllowed, scimType: nil,
                    detail: "\(request.uri.path) accepts \(allowed.map(\.rawValue).joined(separator: ", "))")
            }
        }
        switch segments.first {
        case "ServiceProviderConfig" where segments.count == 1:
            try only(.get)
            return Self.response(discovery.serviceProviderConfig(base: base))
        case "ResourceTypes" where segments.count <= 2:
            try only(.get)
            return Self.response(try discovery.resourceTypes(base: base, id: segments.dropFirst().first))
        case "Schemas" where segments.count <= 2:
            try only(.get)
            return Self.response(try discovery.schemas(id: segments.dropFirst().first))
        case "Users" where segments.count == 1:
            try only(.get, .post)
            return method == .get
                ? try await listUsers(SCIMQuery(request.uri.queryParameters))
                : try await createUser(try await Self.body(request), client: client)
        case "Groups" where segments.count == 1:
            try only(.get, .post)
            return method == .get
                ? try await listGroups(SCIMQuery(request.uri.queryParameters))
                : try await createGroup(try await Self.body(request), client: client)
        case ".search" where segments.count == 1:
            try only(.post)
            let query = try SCIMQuery(search: try await Self.body(request))
            let users = try await engine.directorySync.users().map { SCIMResources.json($0, base: base) }
            let groups = try await engine.directorySync.groups().map { SCIMResources.json($0, base: base) }
            return Self.response(try query.list(users + groups))
        case "Users" where segments.count == 2 && segments[1] == ".search":
            try only(.post)
            return try await listUsers(try SCIMQuery(search: try await Self.body(request)))
        case "Groups" where segments.count == 2 && segments[1] == ".search":
            try only(.post)
            return try await listGroups(try SCIMQuery(search: try await Self.body(request)))
        case "Users" where segments.count == 2:
            try only(.get, .put, .patch, .delete)
            let id = try Self.id(segments[1], "user")
            let query = SCIMQuery(request.uri.queryParameters)
            switch method {
            case .get:
                return Self.response(
                    query.project(SCIMResources.json(try await engine.directorySync.user(id), base: base)))
            case .delete:
                try await engine.directorySync.deleteUser(id, by: client)
                return Response(status: .noContent)
            default:
                let change = try SCIMChange(method, body: try await Self.body(request))
                let base = base
                let user = try await engine.directorySync.updateUser(id, by: client) { current in
                    try SCIMResources.userDraft(
                        from: change.applied(
                            to: SCIMResources.json(current, base: base), readOnly: SCIMResources.userReadOnly,
                            ignored: SCIMResources.userIgnored))
                }
                return Self.response(query.project(SCIMResources.json(user, base: base)))
            }
        case "Groups" where segments.count == 2:
            try only(.get, .put, .patch, .delete)
            let id = try Self.id(segments[1], "group")
            let query = SCIMQuery(request.uri.queryParameters)
            switch method {
            case .get:
                return Self.response(
                    query.project(SCIMResources.json(try await engine.directorySync.group(id), base: base)))
            case .delete:
                try await engine.directorySync.deleteGroup(id, by: client)
                return Response(status: .noContent)
            default:
                let change = try SCIMChange(method, body: try await Self.body(request))
                let removing = try change.removedMembers.map { try Self.id($0, "member") }
                let base = base
                let group = try await engine.directorySync.updateGroup(id, by: client) { current in
                    var draft = try SCIMResources.groupDraft(
                        from: change.applied(
                            to: SCIMResources.json(current, base: base), readOnly: SCIMResources.groupReadOnly,
                            ignored: SCIMResources.groupIgnored))
                    draft.removing = Set(removing)
                    return draft
                }
                return Self.response(query.project(SCIMResources.json(group, base: base)))
            }
        default:
            throw SCIMError.notFound("\(request.uri.path) is not a SCIM endpoint of Regent")
        }
    }

    func createUser(_ body: SCIMValue, client: DirectoryClient) async throws -> Response {
        let draft = try SCIMResources.userDraft(from: try Self.object(body))
        let user = try await engine.directorySync.createUser(draft, by: client)
        return Self.response(
            .object(SCIMResources.json(user, base: base)), status: .created,
            location: "\(base)/Users/\(user.principal.id)")
    }

    func createGroup(_ body: SCIMValue, client: DirectoryClient) async throws -> Response {
        let draft = try SCIMResources.groupDraft(from: try Self.object(body))
        let group = try await engine.directorySync.createGroup(draft, by: client)
        return Self.response(
            .object(SCIMResources.json(group, base: base)), status: .created,
            location: "\(base)/Groups/\(group.principal.id)")
    }

    func listUsers(_ query: SCIMQuery) async throws -> Response {
        let equality = query.filter?.equality
        let users = try await engine.directorySync.users(
            named: equality?.attribute == "username" ? equality?.value : nil,
            externalId: equality?.attribute == "externalid" ? equality?.value : nil)
        return Self.response(try query.list(users.map { SCIMResources.json($0, base: base) }))
    }

    func listGroups(_ query: SCIMQuery) async throws -> Response {
        let equality = query.filter?.equality
        let groups = try await engine.directorySync.groups(
            named: equality?.attribute == "displayname" ? equality?.value : nil,
            externalId: equality?.attribute == "externalid" ? equality?.value : nil)
        return Self.response(try query.list(groups.map { SCIMResources.json($0, base: base) }))
    }

    static func id(_ text: String, _ what: String) throws(SCIMError) -> Principal.ID {
        guard let id = Principal.ID(text) else { throw .notFound("no such \(what)") }
        return id
    }

    static func body(_ request: Request) async throws -> SCIMValue {
        let buffer = try await request.body.collect(upTo: 1 << 20)
        return try SCIMValue.parse(Data(buffer.readableBytesView))
    }

    static func object(_ value: SCIMValue) throws(SCIMError) -> [String: SCIMValue] {
        guard let object = value.object else { throw .invalidSyntax("the body is a JSON object") }
        return object
    }

    static func response(
        _ body: SCIMValue, status: HTTPResponse.Status = .ok, location: String? = nil, extra: [HTTPField] = []
    ) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = mediaType
        if let location { headers[.location] = location }
        for field in extra { headers.append(field) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body.encoded)))
    }
}

/// A list request's filter, paging and projection, from the query string or a `.search` body.
struct SCIMQuery: Sendable {
    var filter: SCIMFilter?
    var filterError: SCIMError?
    var startIndex = 1
    var count = SCIMHandler.defaultCount
    var attributes: [String] = []
    var excludedAttributes: [String] = []

    init(_ parameters: some Sequence<(key: Substring, value: Substring)>) {
        for (key, value) in parameters {
            let text = String(value).removingPercentEncoding ?? String(value)
            switch key.lowercased() {
            case "filter":
                do { filter = try SCIMFilter(parsing: text) } catch { filterError = error }
            case "startindex": startIndex = max(1, Int(text) ?? 1)
            case "count": count = min(SCIMHandler.maximumCount, max(0, Int(text) ?? SCIMHandler.defaultCount))
            case "attributes": attributes = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            case "excludedattributes":
                excludedAttributes = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            default: continue
            }
        }
    }

    init(search body: SCIMValue) throws(SCIMError) {
        guard let object = body.object else { throw .invalidSyntax("a search is a SearchRequest object") }
        if let text = object[attribute: "filter"]?.string { filter = try SCIMFilter(parsing: text) }
        // Clamped before the conversion: Int(1e300) would trap.
        if case .number(let start)? = object[attribute: "startIndex"] { startIndex = Int(min(max(1, start), 1e9)) }
        if case .number(let size)? = object[attribute: "count"] {
            count = Int(min(Double(SCIMHandler.maximumCount), max(0, size)))
        }
        attributes = object[attribute: "attributes"]?.array?.compactMap(\.string) ?? []
        excludedAttributes = object[attribute: "excludedAttributes"]?.array?.compactMap(\.string) ?? []
    }

    func project(_ resource: [String: SCIMValue]) -> SCIMValue {
        .object(SCIMResources.projected(resource, attributes: attributes, excluded: excludedAttributes))
    }

    /// A ListResponse of the resources the filter matches, one page of them.
    func list(_ resources: [[String: SCIMValue]]) throws(SCIMError) -> SCIMValue {
        if let filterError { throw filterError }
        let matching = filter.map { filter in resources.filter(filter.matches) } ?? resources
        let page = matching.dropFirst(startIndex - 1).prefix(count)
        return .object([
            "schemas": .array([.string(SCIMResources.listSchema)]), "totalResults": .number(Double(matching.count)),
            "startIndex": .number(Double(startIndex)), "itemsPerPage": .number(Double(page.count)),
            "Resources": .array(page.map(project)),
        ])
    }
}
