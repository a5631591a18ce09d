import RelayctlCore
import Testing

@Suite("DeleteConfirmation")
struct DeleteConfirmationTests {
    @Test func deleteAsksAndOnlyYesDeletes() {
        #expect(DeleteConfirmation.question(count: 2, state: .deferred) == "Delete 2 deferred messages? [y/N] ")
        #expect(DeleteConfirmation.question(count: 1, state: .held) == "Delete 1 held message? [y/N] ")
        for yes in ["y", "Y", "yes", " YES \n"] { #expect(DeleteConfirmation.accepts(yes)) }
        for no in [nil, "", "n", "no", "yess", "sure"] { #expect(!DeleteConfirmation.accepts(no)) }
    }
}
