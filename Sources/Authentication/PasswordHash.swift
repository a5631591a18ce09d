internal import COpenSSL
internal import SMTPProtocol

/// scrypt's work factors: N = 2^logN, block size r, parallelism p.
public struct ScryptCost: Sendable, Equatable {
    public var logN: Int
    public var r: Int
    public var p: Int

    /// N = 32768, r = 8, p = 1: 32 MiB and ~120 ms per hash on this project's 2-core test machine.
    public static let standard = ScryptCost(logN: 15, r: 8, p: 1)

    /// What a stored hash may ask for: below this it is too weak, above it a users file could make every
    /// AUTH attempt cost seconds and gigabytes.
    static let acceptedLogN = 10...20
    static let acceptedR = 1...32
    static let acceptedP = 1...16
    /// scrypt's memory, 128·r·N bytes, for one check: two checks run at once, so this bounds what AUTH can use.
    static let maximumMemory = 256 << 20

    public init(logN: Int, r: Int, p: Int) {
        self.logN = logN
        self.r = r
        self.p = p
    }

    /// Why this cost is refused for a stored or new hash, or nil.
    var refusal: PasswordHashError? {
        if !Self.acceptedLogN.contains(logN) { return .costOutOfRange("ln=\(logN) is outside \(Self.acceptedLogN)") }
        if !Self.acceptedR.contains(r) { return .costOutOfRange("r=\(r) is outside \(Self.acceptedR)") }
        if !Self.acceptedP.contains(p) { return .costOutOfRange("p=\(p) is outside \(Self.acceptedP)") }
        if 128 * r << logN > Self.maximumMemory {
            return .costOutOfRange("ln=\(logN), r=\(r) needs \((128 * r << logN) >> 20) MiB per check; at most \(Self.maximumMemory >> 20)")
        }
        return nil
    }
}

/// An scrypt password hash in its self-describing text form, `$scrypt$ln=15,r=8,p=1$<salt>$<hash>`.
public struct PasswordHash: Sendable, Equatable, CustomStringConvertible {
    public let cost: ScryptCost
    let salt: [UInt8]
    let hash: [UInt8]

    static let saltLength = 16
    static let hashLength = 32
    /// Lengths accepted when parsing, so a hash written by another tool with other lengths still works.
    static let acceptedSaltLengths = 8...64
    static let acceptedHashLengths = 16...64

    init(cost: ScryptCost, salt: [UInt8], hash: [UInt8]) {
        self.cost = cost
        self.salt = salt
        self.hash = hash
    }

    /// Hashes `password` with a fresh random salt.
    public static func make(password: String, cost: ScryptCost = .standard) throws(PasswordHashError) -> PasswordHash {
        if password.isEmpty { throw .emptyPassword }
        if let refusal = cost.refusal { throw refusal }
        let salt = randomBytes(count: saltLength)
        let hash = try scrypt(password: Array(password.utf8), salt: salt, cost: cost, length: hashLength)
        return PasswordHash(cost: cost, salt: salt, hash: hash)
    }

    /// Parses the text form. Errors name the part that is wrong, never the text itself.
    public init(encoded: String) throws(PasswordHashError) {
        let fields = encoded.split(separator: "$", omittingEmptySubsequences: false)
        // "$scrypt$params$salt$hash" splits into "", "scrypt", params, salt, hash.
        guard fields.count >= 2, fields[0].isEmpty, fields[1] == "scrypt" else { throw .notScrypt }
        guard fields.count == 5 else { throw .malformed }
        let cost = try Self.parseParameters(fields[2])
        if let refusal = cost.refusal { throw refusal }
        guard let salt = Base64.decode(fields[3].utf8, padded: false) else { throw .badBase64(field: "salt") }
        guard let hash = Base64.decode(fields[4].utf8, padded: false) else { throw .badBase64(field: "hash") }
        guard Self.acceptedSaltLengths.contains(salt.count) else {
            throw .badLength(field: "salt", bytes: salt.count, accepted: Self.acceptedSaltLengths)
        }
        guard Self.acceptedHashLengths.contains(hash.count) else {
            throw .badLength(field: "hash", bytes: hash.count, accepted: Self.acceptedHashLengths)
        }
        self.init(cost: cost, salt: salt, hash: hash)
    }

    /// The text form, as stored in the users file.
    public var encoded: String {
        "$scrypt$ln=\(cost.logN),r=\(cost.r),p=\(cost.p)$\(Base64.encode(salt, padded: false))$\(Base64.encode(hash, padded: false))"
    }

    public var description: String { encoded }

    /// Whether `password` hashes to this hash; slow by design (one scrypt) and compared in constant time.
    public func verify(_ password: String) -> Bool {
        guard let candidate = try? Self.scrypt(password: Array(password.utf8), salt: salt, cost: cost, length: hash.count)
        else { return false }
        return candidate.withUnsafeBytes { candidateBytes in
            hash.withUnsafeBytes { hashBytes in
                CRYPTO_memcmp(candidateBytes.baseAddress, hashBytes.baseAddress, hash.count) == 0
            }
        }
    }

    /// `ln=<n>,r=<n>,p=<n>`, in that order (passlib's order), decimal without sign or leading zeros.
    private static func parseParameters(_ text: Substring) throws(PasswordHashError) -> ScryptCost {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .badParameters }
        var values: [Int] = []
        for (part, key) in zip(parts, ["ln", "r", "p"]) {
            let pair = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pair.count == 2, pair[0] == key, let value = decimal(pair[1]) else { throw .badParameters }
            values.append(value)
        }
        return ScryptCost(logN: values[0], r: values[1], p: values[2])
    }

    private static func decimal(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.count <= 6, text.allSatisfy({ $0.isASCII && $0.isNumber }),
              text == "0" || !text.hasPrefix("0")
        else { return nil }
        return Int(text)
    }

    /// The raw KDF, without the range check on the cost (known-answer tests use N = 16); OpenSSL's own
    /// limits still apply.
    static func scrypt(password: [UInt8], salt: [UInt8], cost: ScryptCost, length: Int) throws(PasswordHashError) -> [UInt8] {
        guard (1...62).contains(cost.logN), cost.r > 0, cost.p > 0, length > 0 else { throw .scryptFailed }
        let n = UInt64(1) << UInt64(cost.logN)
        let r = UInt64(cost.r), p = UInt64(cost.p)
        // OpenSSL needs 128·r·(N+2) bytes for V plus 128·r·p for B and refuses to start above maxmem; the
        // headroom only keeps its rounding from refusing a cost we accepted.
        let (v, vOverflow) = (128 * r).multipliedReportingOverflow(by: n + 2)
        guard !vOverflow else { throw .scryptFailed }
        let maxmem = v + 128 * r * p + (1 << 20)
        var key = [UInt8](repeating: 0, count: length)
        let status = password.withUnsafeBufferPointer { passwordBytes in
            salt.withUnsafeBufferPointer { saltBytes in
                key.withUnsafeMutableBufferPointer { keyBytes in
                    passwordBytes.withMemoryRebound(to: CChar.self) { passwordChars in
                        EVP_PBE_scrypt(
                            passwordChars.baseAddress, passwordChars.count, saltBytes.baseAddress, saltBytes.count,
                            n, r, p, maxmem, keyBytes.baseAddress, keyBytes.count)
                    }
                }
            }
        }
        guard status == 1 else {
            // The queue is per thread and would otherwise be blamed on the next TLS call on this thread.
            ERR_clear_error()
            throw .scryptFailed
        }
        return key
    }

    /// COpenSSL's shim does not include <openssl/rand.h>, so RAND_bytes is out of reach; the standard
    /// library's generator reads the kernel's CSPRNG (getrandom) on Linux.
    private static func randomBytes(count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }
}

/// Why a password hash cannot be made or parsed; the text never includes the hash or a password.
public enum PasswordHashError: Error, Equatable, CustomStringConvertible {
    case notScrypt
    case malformed
    case badParameters
    case costOutOfRange(String)
    case badBase64(field: String)
    case badLength(field: String, bytes: Int, accepted: ClosedRange<Int>)
    case emptyPassword
    case scryptFailed

    public var description: String {
        switch self {
        case .notScrypt: "not a $scrypt$ hash"
        case .malformed: "malformed hash: expected $scrypt$ln=<n>,r=<n>,p=<n>$<salt>$<hash>"
        case .badParameters: "bad parameters: expected ln=<n>,r=<n>,p=<n>"
        case .costOutOfRange(let problem): "refused cost: \(problem)"
        case .badBase64(let field): "bad base64 in the \(field) (standard alphabet, no padding)"
        case .badLength(let field, let bytes, let accepted):
            "the \(field) is \(bytes) bytes; \(accepted.lowerBound) to \(accepted.upperBound) accepted"
        case .emptyPassword: "the password is empty"
        case .scryptFailed: "scrypt failed (OpenSSL refused the parameters or ran out of memory)"
        }
    }
}
