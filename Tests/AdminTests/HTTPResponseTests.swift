import Admin
import Testing

@Suite("HTTPResponse and AdminRoute")
struct HTTPResponseTests {
    @Test func aTextResponseOnTheWire() {
        let wire = String(decoding: HTTPResponse.text(.ok, "ok").wireBytes(), as: UTF8.self)
        #expect(wire == "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n")
    }

    @Test func headGetsTheFieldsAndTheLengthButNoBody() {
        let response = HTTPResponse(status: .serviceUnavailable, fields: [.init(name: "X", value: "y")], body: Array("shutting down\n".utf8))
        let wire = String(decoding: response.wireBytes(includingBody: false), as: UTF8.self)
        #expect(wire == "HTTP/1.1 503 Service Unavailable\r\nX: y\r\nContent-Length: 14\r\nConnection: close\r\n\r\n")
    }

    @Test func anEmptyBodyHasLengthZero() {
        let wire = String(decoding: HTTPResponse(status: .notFound).wireBytes(), as: UTF8.self)
        #expect(wire == "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    }

    @Test func everyStatusHasItsReasonPhrase() {
        #expect(HTTPStatus.badRequest.reasonPhrase == "Bad Request")
        #expect(HTTPStatus.methodNotAllowed.reasonPhrase == "Method Not Allowed")
        #expect(HTTPStatus.requestTimeout.reasonPhrase == "Request Timeout")
        #expect(HTTPStatus.serviceUnavailable.code == 503)
    }

    static func head(_ method: String, _ target: String) -> HTTPRequestHead {
        HTTPRequestHead(method: method, target: target, version: .http1_1, fields: [.init(name: "Host", value: "a")])
    }

    @Test(arguments: AdminEndpoint.allCases)
    func getAndHeadServeTheKnownPaths(_ endpoint: AdminEndpoint) {
        #expect(AdminRoute(Self.head("GET", endpoint.rawValue)) == .serve(endpoint, includeBody: true))
        #expect(AdminRoute(Self.head("HEAD", endpoint.rawValue)) == .serve(endpoint, includeBody: false))
        #expect(AdminRoute(Self.head("GET", endpoint.rawValue + "?x=1")) == .serve(endpoint, includeBody: true))
    }

    @Test(arguments: ["POST", "PUT", "DELETE", "OPTIONS", "get", "TRACE"])
    func otherMethodsOnKnownPathsAre405WithAllow(_ method: String) {
        guard case .refuse(let response, _) = AdminRoute(Self.head(method, "/metrics")) else {
            Issue.record("not refused")
            return
        }
        #expect(response.status == .methodNotAllowed)
        #expect(response.fields.contains(.init(name: "Allow", value: "GET, HEAD")))
    }

    @Test(arguments: ["/", "/livez/", "/metrics/x", "/LIVEZ", "*", "http://host/livez", "/readyz%20"])
    func unknownPathsAre404(_ target: String) {
        guard case .refuse(let response, let includeBody) = AdminRoute(Self.head("GET", target)) else {
            Issue.record("not refused")
            return
        }
        #expect(response.status == .notFound)
        #expect(includeBody)
        guard case .refuse(let posted, _) = AdminRoute(Self.head("POST", target)) else { return }
        #expect(posted.status == .notFound, "404 before 405: there is no resource to have methods")
    }
}
