/// The inbound AUTH users, checked by password. `verify` is blocking and slow by design (one scrypt, about
/// 0.1 s at the standard cost): run it off the event loop.
public final class CredentialStore: Sendable {
    private let users: [String: UserEntry]
    /// Checked for names that do not exist, so an unknown name costs the same scrypt as a known one.
    let dummy: PasswordHash

    public init(_ users: [String: UserEntry]) {
        self.users = users
        self.dummy = PasswordHash(cost: Self.usualCost(of: users), salt: Self.dummySalt, hash: Self.dummyHash)
    }

    /// The number of users.
    public var count: Int { users.count }

    /// The user `username` if `password` is theirs, else nil (unknown name or wrong password alike).
    public func verify(username: String, password: String) -> UserEntry? {
        guard let entry = users[username] else {
            _ = dummy.verify(password)
            return nil
        }
        return entry.hash.verify(password) ? entry : nil
    }

    /// The cost most users' hashes have (the standard one when there are none), so the dummy check takes
    /// as long as a real one would.
    private static func usualCost(of users: [String: UserEntry]) -> ScryptCost {
        var tally: [ScryptCostKey: Int] = [:]
        for entry in users.values { tally[ScryptCostKey(entry.hash.cost), default: 0] += 1 }
        let best = tally.max { a, b in a.value != b.value ? a.value < b.value : a.key > b.key }
        return best?.key.cost ?? .standard
    }

    // Fixed bytes, not a real hash: no password matches them, and building the dummy costs no scrypt.
    private static let dummySalt: [UInt8] = Array("MailRelay-dummy!".utf8)
    private static let dummyHash: [UInt8] = Array("no password hashes to this value".utf8)
}

/// A cost as a dictionary key with a total order, so the usual cost is the same whatever the hash order.
private struct ScryptCostKey: Hashable, Comparable {
    var logN: Int, r: Int, p: Int

    init(_ cost: ScryptCost) { (logN, r, p) = (cost.logN, cost.r, cost.p) }

    var cost: ScryptCost { ScryptCost(logN: logN, r: r, p: p) }

    static func < (a: Self, b: Self) -> Bool { (a.logN, a.r, a.p) < (b.logN, b.r, b.p) }
}
