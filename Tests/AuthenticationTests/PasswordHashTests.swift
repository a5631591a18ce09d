import Foundation
import Testing
@testable import Authentication
import SMTPProtocol

/// logN 10 (1 MiB, about a millisecond) keeps the tests fast; the standard cost is tried once.
let fastCost = ScryptCost(logN: 10, r: 8, p: 1)

@Suite struct PasswordHashTests {
    @Test func theRightPasswordVerifiesAndOthersDoNot() throws {
        let hash = try PasswordHash.make(password: "correct horse", cost: fastCost)
        #expect(hash.verify("correct horse"))
        #expect(!hash.verify("correct horsf"))
        #expect(!hash.verify("correct hors"))
        #expect(!hash.verify("correct horse "))
        #expect(!hash.verify("Correct horse"))
        #expect(!hash.verify(""))
    }

    @Test func theEncodedFormRoundTrips() throws {
        let hash = try PasswordHash.make(password: "pässwörd ✓", cost: fastCost)
        let parsed = try PasswordHash(encoded: hash.encoded)
        #expect(parsed == hash)
        #expect(parsed.cost == fastCost)
        #expect(parsed.verify("pässwörd ✓"))
        #expect(hash.description == hash.encoded)
    }

    @Test func theEncodedFormHasTheDocumentedShape() throws {
        let encoded = try PasswordHash.make(password: "x", cost: fastCost).encoded
        let fields = encoded.split(separator: "$", omittingEmptySubsequences: false)
        #expect(fields.count == 5)
        #expect(fields[1] == "scrypt")
        #expect(fields[2] == "ln=10,r=8,p=1")
        // 16 and 32 bytes in unpadded base64.
        #expect(fields[3].count == 22)
        #expect(fields[4].count == 43)
        #expect(!fields[3].contains("=") && !fields[4].contains("="))
    }

    @Test func twoHashesOfOnePasswordDifferBySalt() throws {
        let first = try PasswordHash.make(password: "same", cost: fastCost)
        let second = try PasswordHash.make(password: "same", cost: fastCost)
        #expect(first != second)
        #expect(first.salt != second.salt)
        #expect(first.hash != second.hash)
        #expect(first.verify("same") && second.verify("same"))
    }

    @Test func theStandardCostIsTheDefaultAndWorks() throws {
        let hash = try PasswordHash.make(password: "standard")
        #expect(hash.cost == ScryptCost(logN: 15, r: 8, p: 1))
        #expect(hash.encoded.hasPrefix("$scrypt$ln=15,r=8,p=1$"))
        #expect(hash.verify("standard"))
        #expect(!hash.verify("standarD"))
    }

    @Test func aHashMadeByPythonsHashlibVerifies() throws {
        // hashlib.scrypt(b"correct horse", salt=bytes(range(16)), n=1024, r=8, p=1, dklen=32)
        let hash = try PasswordHash(encoded: "$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$nfkj3u1fRTHCea+fVr03sWV770kp5wLOLoEakziKhqE")
        #expect(hash.salt == Array(0..<16))
        #expect(hash.verify("correct horse"))
        #expect(!hash.verify("correct horse!"))
    }

    @Test func anEmptyPasswordIsNotHashed() {
        #expect(throws: PasswordHashError.emptyPassword) { try PasswordHash.make(password: "", cost: fastCost) }
    }

    @Test(arguments: [
        ScryptCost(logN: 9, r: 8, p: 1), ScryptCost(logN: 21, r: 8, p: 1), ScryptCost(logN: 10, r: 0, p: 1),
        ScryptCost(logN: 10, r: 33, p: 1), ScryptCost(logN: 10, r: 8, p: 0), ScryptCost(logN: 10, r: 8, p: 17),
    ])
    func aCostOutsideTheAcceptedRangeIsNotUsedToMakeAHash(cost: ScryptCost) {
        #expect(throws: PasswordHashError.self) { try PasswordHash.make(password: "x", cost: cost) }
    }
}

@Suite struct PasswordHashParsingTests {
    static let salt = "AAECAwQFBgcICQoLDA0ODw"
    static let hash = "nfkj3u1fRTHCea+fVr03sWV770kp5wLOLoEakziKhqE"

    func error(parsing text: String) -> PasswordHashError? {
        do {
            _ = try PasswordHash(encoded: text)
            return nil
        } catch {
            return error
        }
    }

    @Test(arguments: [
        "", "secret", "scrypt$ln=10,r=8,p=1$\(salt)$\(hash)", "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
        "$2b$12$abcdefghijklmnopqrstuu5y0F9kM8Yb1Yc8yWw6rS8V0Y6b5m2Sa", "$SCRYPT$ln=10,r=8,p=1$\(salt)$\(hash)",
        " $scrypt$ln=10,r=8,p=1$\(salt)$\(hash)",
    ])
    func notAnScryptHash(text: String) {
        #expect(error(parsing: text) == .notScrypt)
    }

    @Test(arguments: [
        "$scrypt$", "$scrypt$ln=10,r=8,p=1", "$scrypt$ln=10,r=8,p=1$\(salt)", "$scrypt$ln=10,r=8,p=1$\(salt)$\(hash)$",
        "$scrypt$ln=10,r=8,p=1$\(salt)$\(hash)$extra",
    ])
    func theWrongNumberOfFields(text: String) {
        #expect(error(parsing: text) == .malformed)
    }

    @Test(arguments: [
        "", "ln=10,r=8", "ln=10,r=8,p=1,x=1", "r=8,ln=10,p=1", "ln=ten,r=8,p=1", "ln=10,r=8,p=", "ln=010,r=8,p=1",
        "ln=+10,r=8,p=1", "ln=-1,r=8,p=1", "ln=10;r=8;p=1", "n=1024,r=8,p=1", "ln=10,r=8,p=1,", "ln = 10,r=8,p=1",
        "ln=10,r=8,p=99999999999999999999", "ln=١٠,r=8,p=1",
    ])
    func badParameters(parameters: String) {
        #expect(error(parsing: "$scrypt$\(parameters)$\(Self.salt)$\(Self.hash)") == .badParameters)
    }

    @Test(arguments: [
        ("ln=9,r=8,p=1", "ln=9 is outside 10...20"), ("ln=21,r=8,p=1", "ln=21 is outside 10...20"),
        ("ln=64,r=8,p=1", "ln=64 is outside 10...20"), ("ln=10,r=0,p=1", "r=0 is outside 1...32"),
        ("ln=10,r=33,p=1", "r=33 is outside 1...32"), ("ln=20,r=8,p=0", "p=0 is outside 1...16"),
        ("ln=20,r=8,p=17", "p=17 is outside 1...16"), ("ln=20,r=1024,p=1", "r=1024 is outside 1...32"),
        // Each bound on its own is fine; together they would take a gigabyte per AUTH attempt.
        ("ln=20,r=8,p=1", "ln=20, r=8 needs 1024 MiB per check; at most 256"),
        ("ln=18,r=16,p=1", "ln=18, r=16 needs 512 MiB per check; at most 256"),
    ])
    func absurdCostsAreRefused(parameters: String, problem: String) {
        #expect(error(parsing: "$scrypt$\(parameters)$\(Self.salt)$\(Self.hash)") == .costOutOfRange(problem))
    }

    @Test(arguments: [
        ("\(salt)==", "salt"), ("AAECAwQFBgcICQoLDA0OD.", "salt"), ("AAECAwQFBgcICQoLDA0OD-", "salt"),
        ("AAECAwQFBgcICQoLDA0OD_", "salt"), ("AAECAwQF BgcICQoLDA0ODw", "salt"),
        // Non-zero unused bits: "Dx" would decode to the same bytes as "Dw".
        ("AAECAwQFBgcICQoLDA0ODx", "salt"),
        // 4k+1 characters cannot be whole bytes.
        ("AAECAwQFBgcICQoLDA0ODwAAA", "salt"),
        ("", "salt"),
    ])
    func badBase64InTheSalt(salt: String, field: String) {
        let expected: PasswordHashError = salt.isEmpty
            ? .badLength(field: "salt", bytes: 0, accepted: 8...64) : .badBase64(field: field)
        #expect(error(parsing: "$scrypt$ln=10,r=8,p=1$\(salt)$\(Self.hash)") == expected)
    }

    @Test(arguments: ["\(hash)=", "nfkj3u1fRTHCea+fVr03sWV770kp5wLOLoEakziKhqF", "nfkj3u1fRTHCea-fVr03sWV770kp5wLOLoEakziKhqE"])
    func badBase64InTheHash(hash: String) {
        #expect(error(parsing: "$scrypt$ln=10,r=8,p=1$\(Self.salt)$\(hash)") == .badBase64(field: "hash"))
    }

    @Test func saltsAndHashesOfImplausibleLengthsAreRefused() {
        #expect(error(parsing: "$scrypt$ln=10,r=8,p=1$AAECAw$\(Self.hash)")
            == .badLength(field: "salt", bytes: 4, accepted: 8...64))
        #expect(error(parsing: "$scrypt$ln=10,r=8,p=1$\(Self.salt)$AAECAwQFBgc")
            == .badLength(field: "hash", bytes: 8, accepted: 16...64))
        let long = Base64.encode(Array(repeating: 7, count: 65), padded: false)
        #expect(error(parsing: "$scrypt$ln=10,r=8,p=1$\(Self.salt)$\(long)")
            == .badLength(field: "hash", bytes: 65, accepted: 16...64))
    }

    @Test func errorsNeverQuoteTheText() {
        let texts = [
            "hunter2", "$scrypt$ln=10,r=8,p=1$\(Self.salt)", "$scrypt$ln=9,r=8,p=1$\(Self.salt)$\(Self.hash)",
            "$scrypt$ln=x,r=8,p=1$\(Self.salt)$\(Self.hash)", "$scrypt$ln=10,r=8,p=1$\(Self.salt)$\(Self.hash)=",
            "$scrypt$ln=10,r=8,p=1$\(Self.salt)=$\(Self.hash)",
        ]
        for text in texts {
            let message = error(parsing: text)?.description ?? ""
            #expect(!message.isEmpty)
            #expect(!message.contains("hunter2"))
            #expect(!message.contains(Self.salt))
            #expect(!message.contains(Self.hash))
        }
    }
}

/// RFC 7914 §12 test vectors, through the internal KDF (the first has N = 16, below what a stored hash may use).
@Suite struct ScryptKnownAnswerTests {
    func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    @Test func rfc7914EmptyPasswordAndSalt() throws {
        let key = try PasswordHash.scrypt(password: [], salt: [], cost: ScryptCost(logN: 4, r: 1, p: 1), length: 64)
        #expect(hex(key) == "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906")
    }

    @Test func rfc7914PasswordNaCl() throws {
        let key = try PasswordHash.scrypt(
            password: Array("password".utf8), salt: Array("NaCl".utf8), cost: ScryptCost(logN: 10, r: 8, p: 16), length: 64)
        #expect(hex(key) == "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640")
    }

    @Test func rfc7914PleaseLetMeIn() throws {
        let key = try PasswordHash.scrypt(
            password: Array("pleaseletmein".utf8), salt: Array("SodiumChloride".utf8),
            cost: ScryptCost(logN: 14, r: 8, p: 1), length: 64)
        #expect(hex(key) == "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887")
    }

    @Test func costsOpenSSLCannotRunAreAnErrorNotACrash() {
        #expect(throws: PasswordHashError.scryptFailed) {
            try PasswordHash.scrypt(password: [1], salt: [2], cost: ScryptCost(logN: 0, r: 8, p: 1), length: 32)
        }
        #expect(throws: PasswordHashError.scryptFailed) {
            try PasswordHash.scrypt(password: [1], salt: [2], cost: ScryptCost(logN: 10, r: 8, p: 1), length: 0)
        }
    }
}
