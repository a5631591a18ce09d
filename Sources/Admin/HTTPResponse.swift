/// One HTTP/1.1 response, turned into wire bytes with `Content-Length` and `Connection: close`: the admin
/// endpoint answers one request per connection, so the length is always known and nothing is chunked.
public struct HTTPResponse: Sendable, Equatable {
    public var status: HTTPStatus
    /// Fields besides the two the wire form always adds (`Content-Length`, `Connection`).
    public var fields: [HTTPField]
    public var body: [UInt8]

    public init(status: HTTPStatus, fields: [HTTPField] = [], body: [UInt8] = []) {
        self.status = status
        self.fields = fields
        self.body = body
    }

    /// A `text/plain` response whose body is `text` and a newline.
    public static func text(_ status: HTTPStatus, _ text: String, fields: [HTTPField] = []) -> HTTPResponse {
        HTTPResponse(
            status: status,
            fields: [.init(name: "Content-Type", value: "text/plain; charset=utf-8")] + fields,
            body: Array((text + "\n").utf8))
    }

    /// The response as sent; `includingBody: false` for HEAD, which gets the same fields (the length of the
    /// body it would have had) and no body (RFC 9110 §9.3.2).
    public func wireBytes(includingBody: Bool = true) -> [UInt8] {
        var head = "HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\n"
        for field in fields {
            head += "\(field.name): \(field.value)\r\n"
        }
        head += "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        var bytes = Array(head.utf8)
        if includingBody { bytes += body }
        return bytes
    }
}
