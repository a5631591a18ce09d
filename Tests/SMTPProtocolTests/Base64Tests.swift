import Foundation
import SMTPProtocol
import Testing

@Suite struct Base64Tests {
    private func sample(_ length: Int) -> [UInt8] { (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) } }

    @Test func agreesWithFoundationPaddedAndUnpaddedForEveryLengthUpTo40() {
        for length in 0...40 {
            let bytes = sample(length)
            let foundation = Data(bytes).base64EncodedString()
            let bare = foundation.replacingOccurrences(of: "=", with: "")
            #expect(Base64.encode(bytes) == foundation)
            #expect(Base64.encode(bytes, padded: false) == bare)
            #expect(Base64.decode(foundation.utf8) == bytes)
            #expect(Base64.decode(bare.utf8, padded: false) == bytes)
        }
    }

    @Test(arguments: [
        "AHVzZXIAc2VjcmV0", "dXNlcg==", "c2VjcmV0", "",
    ])
    func decodesWhatSASLClientsSend(text: String) {
        #expect(Base64.decode(text.utf8).map { Data($0).base64EncodedString() } == text)
    }

    @Test(arguments: [
        "dXNlcg",  // padding missing
        "dXNlcg=",  // too little padding
        "dXNlcg===",  // too much
        "dX=lcg==",  // padding in the middle
        "d===",  // three "="
        "dXNl cg==",  // whitespace
        "dXNlcg==\r\n",  // a line end
        "dXNlch==",  // unused bits not zero: would decode like "dXNlcg=="
        "dXNlc2U=x",  // data after padding
        "not-base64!",
        "a",
    ])
    func refusesWhatIsNotStrictPaddedBase64(text: String) {
        #expect(Base64.decode(text.utf8) == nil)
    }

    @Test(arguments: [
        "dXNlcg==",  // padding where there must be none
        "dXNlch",  // unused bits not zero
        "AAECA",  // 4k+1 symbols encode no whole number of bytes
        "dX Nl",
        "é",
    ])
    func refusesWhatIsNotStrictUnpaddedBase64(text: String) {
        #expect(Base64.decode(text.utf8, padded: false) == nil)
    }
}
