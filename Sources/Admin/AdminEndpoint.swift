/// The paths the admin endpoint serves.
public enum AdminEndpoint: String, Sendable, CaseIterable {
    case livez = "/livez"
    case readyz = "/readyz"
    case metrics = "/metrics"
}

/// What a request head asks for: an endpoint to answer, or a refusal decided from the head alone. Pure, so
/// the status rules (404 before 405, GET and HEAD only) are tested without sockets.
public enum AdminRoute: Sendable, Equatable {
    /// Answer `endpoint`; `includeBody` is false for HEAD.
    case serve(AdminEndpoint, includeBody: Bool)
    case refuse(HTTPResponse, includeBody: Bool)

    public init(_ head: HTTPRequestHead) {
        let includeBody = head.method != "HEAD"
        guard let endpoint = AdminEndpoint(rawValue: String(head.path)) else {
            self = .refuse(.text(.notFound, "not found"), includeBody: includeBody)
            return
        }
        guard head.method == "GET" || head.method == "HEAD" else {
            self = .refuse(.text(.methodNotAllowed, "method not allowed", fields: [.init(name: "Allow", value: "GET, HEAD")]),
                           includeBody: true)
            return
        }
        self = .serve(endpoint, includeBody: includeBody)
    }
}
