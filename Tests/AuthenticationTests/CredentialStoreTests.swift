import Testing
@testable import Authentication

@Suite struct CredentialStoreTests {
    let store: CredentialStore

    init() throws {
        store = CredentialStore(try UsersFile.parse("""
            alice:\(try PasswordHash.make(password: "alice-secret", cost: fastCost)):example.com
            bob:\(try PasswordHash.make(password: "bob-secret", cost: fastCost))
            """, file: "users"))
    }

    @Test func theRightPasswordGivesTheUser() {
        let alice = store.verify(username: "alice", password: "alice-secret")
        #expect(alice?.name == "alice")
        #expect(alice?.senderDomains == ["example.com"])
        #expect(store.verify(username: "bob", password: "bob-secret")?.name == "bob")
        #expect(store.count == 2)
    }

    @Test func aWrongPasswordGivesNothing() {
        #expect(store.verify(username: "alice", password: "bob-secret") == nil)
        #expect(store.verify(username: "alice", password: "alice-secreT") == nil)
        #expect(store.verify(username: "alice", password: "") == nil)
        #expect(store.verify(username: "Alice", password: "alice-secret") == nil)
    }

    @Test func anUnknownUserGivesNothing() {
        #expect(store.verify(username: "carol", password: "alice-secret") == nil)
        #expect(store.verify(username: "", password: "") == nil)
    }

    @Test func theDummyCheckForUnknownNamesCostsWhatTheUsersHashesCost() throws {
        #expect(store.dummy.cost == fastCost)
        #expect(CredentialStore([:]).dummy.cost == .standard)
        #expect(CredentialStore([:]).count == 0)
        let mixed = CredentialStore(try UsersFile.parse("""
            a:\(try PasswordHash.make(password: "a", cost: fastCost))
            b:\(try PasswordHash.make(password: "b", cost: ScryptCost(logN: 11, r: 8, p: 1)))
            c:\(try PasswordHash.make(password: "c", cost: ScryptCost(logN: 11, r: 8, p: 1)))
            """, file: "users"))
        #expect(mixed.dummy.cost == ScryptCost(logN: 11, r: 8, p: 1))
    }
}
