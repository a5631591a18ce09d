/// One HTTP header field of a request or a response, name as sent (`HTTPRequestHead.value(of:)` compares
/// names ignoring case).
public struct HTTPField: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}
