#if canImport(Glibc)
import Glibc
#endif
import SMTPProtocol
import Spool
import Testing

@Suite("SpoolError")
struct SpoolErrorTests {
    @Test(arguments: [
        (SpoolError.diskFull(operation: "write", path: "/q"), 452, "4.3.1"),
        (SpoolError.io(operation: "rename", path: "/q", errno: EIO), 451, "4.3.0"),
        (SpoolError.corrupt(path: "/q", reason: "x"), 451, "4.3.0"),
        (SpoolError.notFound(QueueID("0123456789ABC")!), 451, "4.3.0"),
    ])
    func smtpReplyIsAlwaysTemporary(error: SpoolError, code: Int, enhanced: String) {
        let reply = error.smtpReply
        #expect(reply.code == code)
        #expect(reply.enhanced?.description == enhanced)
        #expect(reply.isTransient, "a failed commit is never 250 and never a permanent refusal")
    }

    @Test(arguments: [(ENOSPC, true), (EDQUOT, true), (EIO, false), (EACCES, false), (ENOENT, false)])
    func fromErrnoTellsDiskFullApart(code: Int32, isDiskFull: Bool) {
        let error = SpoolError.fromErrno("write", "/spool/incoming/x", code)
        if isDiskFull {
            #expect(error == .diskFull(operation: "write", path: "/spool/incoming/x"))
        } else {
            #expect(error == .io(operation: "write", path: "/spool/incoming/x", errno: code))
        }
    }

    @Test func descriptionNamesOperationAndPath() {
        let text = SpoolError.io(operation: "rename", path: "/spool/queue/X.msg", errno: EACCES).description
        #expect(text.contains("rename") && text.contains("/spool/queue/X.msg") && text.contains("Permission denied"))
        #expect(SpoolError.diskFull(operation: "write", path: "/p").description == "write /p: no space left on device")
    }
}
