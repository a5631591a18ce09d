@testable import Delivery
import SMTPProtocol
import Testing

@Suite("UpstreamFailureReason")
struct UpstreamFailureReasonTests {
    static let relay = "smtp.example[192.0.2.7]:587"

    @Test func eachFailureHasItsReason() {
        let cases: [(UpstreamFailure, UpstreamFailureReason)] = [
            (.connect(endpoint: "smtp.example:587", reason: "connect 192.0.2.7:587: Connection refused"), .connect),
            (.connect(endpoint: "smtp.example:587", reason: "timed out"), .timeout),
            (.tls(relay: Self.relay, reason: "certificate verify failed"), .tls),
            (.lost(relay: Self.relay, reason: "connection closed by the upstream"), .connect),
            (.lost(relay: Self.relay, reason: UpstreamFailure.noReplyWithin + "30 seconds"), .timeout),
            (.lost(relay: Self.relay, reason: UpstreamFailure.couldNotSendWithin + "30 seconds"), .timeout),
            (.session(relay: Self.relay, .authenticationFailed(SMTPReply(535, .init(5, 7, 8), "bad credentials"))), .auth),
            (.session(relay: Self.relay, .authenticationFailed(SMTPReply(454, .init(4, 7, 0), "try later"))), .auth),
            (.session(relay: Self.relay, .authenticationNotOffered), .auth),
            (.session(relay: Self.relay, .credentialsRequireTLS), .auth),
            (.session(relay: Self.relay, .startTLSNotOffered), .tls),
            (.session(relay: Self.relay, .startTLSRefused(SMTPReply(454, nil, "no"))), .tls),
            (.session(relay: Self.relay, .plaintextInjection), .protocolError),
            (.session(relay: Self.relay, .malformedReply("not SMTP")), .protocolError),
            (.session(relay: Self.relay, .greetingRefused(SMTPReply(554, nil, "go away"))), .permanent),
            (.session(relay: Self.relay, .serviceClosing(SMTPReply(421, .init(4, 3, 2), "shutting down"))), .transient),
            (.session(relay: Self.relay, .ehloRefused(SMTPReply(450, nil, "later"))), .transient),
            (.session(relay: Self.relay, .unexpectedReply(SMTPReply(500, nil, "what"), command: "RSET")), .permanent),
        ]
        for (failure, reason) in cases {
            #expect(UpstreamFailureReason(failure) == reason, "\(failure)")
        }
    }

    @Test func theLabelValuesAreTheDocumentedOnes() {
        #expect(UpstreamFailureReason.allCases.map(\.rawValue) == ["connect", "tls", "auth", "timeout", "4xx", "5xx", "protocol"])
    }
}
