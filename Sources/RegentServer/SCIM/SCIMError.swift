import Foundation
import HTTPTypes
import RegentCore

/// A SCIM error response (RFC 7644 §3.12): a status, a `scimType` where one applies, a detail.
struct SCIMError: Error, Sendable, Equatable {
    var status: HTTPResponse.Status
    var scimType: String?
    var detail: String

    static func invalidSyntax(_ detail: String) -> SCIMError {
        SCIMError(status: .badRequest, scimType: "invalidSyntax", detail: detail)
    }
    static func invalidFilter(_ detail: String) -> SCIMError {
        SCIMError(status: .badRequest, scimType: "invalidFilter", detail: detail)
    }
    static func invalidValue(_ detail: String) -> SCIMError {
        SCIMError(status: .badRequest, scimType: "invalidValue", detail: detail)
    }
    static func invalidPath(_ detail: String) -> SCIMError {
        SCIMError(status: .badRequest, scimType: "invalidPath", detail: detail)
    }
    static func noTarget(_ detail: String) -> SCIMError {
        SCIMError(status: .badRequest, scimType: "noTarget", detail: detail)
    }
    static func mutability(_ detail: String) -> SCIMError {
        SCIMError(status: .badRequest, scimType: "mutability", detail: detail)
    }
    static func notFound(_ detail: String) -> SCIMError { SCIMError(status: .notFound, scimType: nil, detail: detail) }
    static let unauthenticated = SCIMError(
        status: .unauthorized, scimType: nil, detail: "a SCIM bearer token is required (POST /v1/scim/tokens makes one)"
    )

    /// The SCIM form of an engine refusal: a taken name is `uniqueness`, a bad value `invalidValue`.
    init(_ error: RegentError) {
        switch error.code {
        case .notFound: self = .notFound(error.reason)
        case .conflict:
            self.init(
                status: .conflict,
                scimType: error.field == "userName" || error.field == "displayName" ? "uniqueness" : nil,
                detail: error.reason)
        case .unavailable: self.init(status: .serviceUnavailable, scimType: nil, detail: error.reason)
        case .accessDenied, .unauthenticated: self.init(status: .forbidden, scimType: nil, detail: error.reason)
        default: self = .invalidValue(error.field.map { "\($0): \(error.reason)" } ?? error.reason)
        }
    }

    init(status: HTTPResponse.Status, scimType: String?, detail: String) {
        self.status = status
        self.scimType = scimType
        self.detail = detail
    }

    var body: SCIMValue {
        var body: [String: SCIMValue] = [
            "schemas": .array([.string("urn:ietf:params:scim:api:messages:2.0:Error")]),
            "status": .string(String(status.code)), "detail": .string(detail),
        ]
        if let scimType { body["scimType"] = .string(scimType) }
        return .object(body)
    }
}
