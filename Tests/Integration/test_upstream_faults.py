"""Fault injection against the upstream (issue 7), black-box: relayd relays to a small scripted SMTP server
written here (not aiosmtpd: these faults need control over every byte and every packet), whose first
connection misbehaves and whose later connections behave:

- it closes the connection in the middle of DATA;
- it stalls past relayd's timeouts: at the greeting, after MAIL, after the final dot;
- it answers garbage (an HTTP status line, a line without a code) at the greeting and after EHLO;
- it splits multi-line and final replies across packets at awkward places (this one must NOT defer);
- it answers 421 4.3.0 at each step: greeting, EHLO, MAIL, RCPT, DATA, the final dot;
- its implicit-TLS handshake stalls (never answers the ClientHello);
- its name does not resolve (`.invalid`, RFC 2606).

For each, one message (unique Message-ID) goes into relayd over SMTP, and the test checks that the faulty
attempt is logged `msg=delivery ... status=deferred` with a `reply=` naming the reason, that the message is
then delivered EXACTLY ONCE by a well-behaved connection (the server counts complete DATA transactions, i.e.
a 2xx sent after the final dot, by Message-ID; a transaction it stalled or answered 421 after the dot is not
counted: it never accepted it), and that relayd's queue drains.
"""

from __future__ import annotations

import collections
import re
import signal
import socket
import ssl
import threading
import time
import uuid
from dataclasses import dataclass, field

import pytest

from relayd_harness import free_port, split_received, to_yaml
from smtp_wire import SMTPWire, dot_stuff
from waiting import wait_on

RETRY = {"first": "1s", "max": "2s", "multiplier": 2, "jitter": 0}
TIMEOUT = "2s"  # upstream command/data/connect timeouts where a test needs a stall to end quickly
MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*(<[^>\r\n]*>)", re.I | re.M)
EHLO_LINES = [b"upstream.test greets relay.test", b"8BITMIME", b"ENHANCEDSTATUSCODES", b"SIZE 52428800"]
EHLO_REPLY = b"".join(b"250" + (b" " if i == len(EHLO_LINES) - 1 else b"-") + line + b"\r\n"
                      for i, line in enumerate(EHLO_LINES))


# -- the scripted upstream ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Reply:
    """Send these bytes instead of the normal reply; `close` the connection right after (as after a 421)."""

    data: bytes
    close: bool = False


@dataclass(frozen=True)
class Chunks:
    """Send these parts one after another with `pause` s between them (one packet each: TCP_NODELAY)."""

    parts: tuple[bytes, ...]
    pause: float = 0.1


STALL = "stall"  # never answer; keep the connection open until the client gives up and closes it
CLOSE = "close"  # close the connection instead of answering

# A script maps a step to an action (Reply, Chunks, STALL or CLOSE); a step left out behaves normally.
# Steps: "greeting", "EHLO", "MAIL", "RCPT", "DATA", "dot" (the reply to the final dot), "tls" (the
# implicit-TLS handshake: only STALL), and "data_close_after": an int, close after that many bytes of the
# message content arrived.
GOOD: dict = {}


@dataclass
class SessionLog:
    n: int
    script: dict
    commands: list[bytes] = field(default_factory=list)
    data_bytes: int = 0  # message content bytes received (all transactions)
    dots: int = 0  # final dots received
    replies_to_dot: list[bytes] = field(default_factory=list)
    ended: str = ""  # how the server side ended: "quit", "client closed", "script", "stopped"


class _Conn:
    """One accepted connection: buffered line/data reads that give up when the server stops."""

    def __init__(self, sock: socket.socket, stop: threading.Event):
        self.sock = sock
        self.stop = stop
        self.buf = b""
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(0.2)

    def _recv(self) -> bytes | None:
        """More bytes; None when the peer closed, the connection broke or the server is stopping."""
        while not self.stop.is_set():
            try:
                chunk = self.sock.recv(65536)
            except (socket.timeout, ssl.SSLWantReadError):
                continue
            except (OSError, ssl.SSLError):
                return None
            return chunk or None
        return None

    def send(self, data: bytes) -> bool:
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            return False

    def readline(self) -> bytes | None:
        while b"\r\n" not in self.buf:
            chunk = self._recv()
            if chunk is None:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read_data(self, log: SessionLog, close_after: int | None) -> bytes | None:
        """The message content up to the final dot (still dot-stuffed, with its last CRLF); None if the
        connection ended first, or the script closed it after `close_after` bytes."""
        start = 0
        while True:
            if self.buf.startswith(b".\r\n"):  # an empty message
                self.buf = self.buf[3:]
                return b""
            end = self.buf.find(b"\r\n.\r\n", start)
            if end >= 0 and (close_after is None or end + 2 < close_after):
                content, self.buf = self.buf[: end + 2], self.buf[end + 5:]
                log.data_bytes += len(content)
                return content
            if close_after is not None and len(self.buf) >= close_after:
                log.data_bytes += len(self.buf)
                return None
            start = max(0, len(self.buf) - 4)
            chunk = self._recv()
            if chunk is None:
                log.data_bytes += len(self.buf)
                return None
            self.buf += chunk

    def wait_closed(self) -> None:
        """Read and discard until the peer closes (or the server stops)."""
        while self._recv() is not None:
            pass

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def unstuff(content: bytes) -> bytes:
    lines = content.split(b"\r\n")
    return b"\r\n".join(line[1:] if line.startswith(b".") else line for line in lines)


class ScriptedUpstream:
    """A threading TCP server on 127.0.0.1 speaking just enough SMTP. `scripts` are used one per accepted
    connection, in order; connections after them get GOOD. With `tls_context`, every connection (but one
    whose script stalls the handshake) is implicit TLS."""

    def __init__(self, scripts=(), *, tls_context: ssl.SSLContext | None = None):
        self.host = "127.0.0.1"
        self.port = free_port(self.host)
        self.tls = "implicit" if tls_context else "none"
        self.tls_context = tls_context
        self._scripts = collections.deque(scripts)
        self.lock = threading.Condition()
        self.sessions: list[SessionLog] = []
        self.delivered: collections.Counter = collections.Counter()  # Message-ID -> complete transactions
        self.messages: list[bytes] = []  # every accepted content, unstuffed
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._conns: list[_Conn] = []
        self._listener: socket.socket | None = None

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> "ScriptedUpstream":
        self._listener = socket.create_server((self.host, self.port))
        self._listener.settimeout(0.2)
        t = threading.Thread(target=self._accept_loop, name=f"scripted-upstream-{self.port}", daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._listener is not None:
            self._listener.close()
        for t in list(self._threads):
            t.join(5)
        for c in self._conns:
            c.close()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                script = self._scripts.popleft() if self._scripts else GOOD
                log = SessionLog(len(self.sessions) + 1, script)
                self.sessions.append(log)
                self.lock.notify_all()
            t = threading.Thread(target=self._serve, args=(sock, script, log), daemon=True)
            t.start()
            self._threads.append(t)

    # -- one connection -----------------------------------------------------------------------------
    def _serve(self, sock: socket.socket, script: dict, log: SessionLog) -> None:
        conn = _Conn(sock, self._stop)
        self._conns.append(conn)
        try:
            log.ended = self._dialogue(conn, script, log)
        except Exception as e:  # noqa: BLE001 - a broken test server must show in the transcript
            log.ended = f"server error {e!r}"
        finally:
            conn.close()
            with self.lock:
                self.lock.notify_all()

    def _act(self, conn: _Conn, script: dict, step: str, normal: bytes) -> tuple[bool, bytes]:
        """Answer `step` as the script says; (go on with the dialogue?, the bytes sent)."""
        action = script.get(step)
        if action is None:
            return conn.send(normal), normal
        if action == STALL:
            conn.wait_closed()
            return False, b""
        if action == CLOSE:
            return False, b""
        if isinstance(action, Reply):
            ok = conn.send(action.data)
            return ok and not action.close, action.data
        if isinstance(action, Chunks):
            for i, part in enumerate(action.parts):
                if i:
                    time.sleep(action.pause)
                if not conn.send(part):
                    return False, b""
            return True, b"".join(action.parts)
        raise ValueError(f"unknown action {action!r} for {step}")

    def _dialogue(self, conn: _Conn, script: dict, log: SessionLog) -> str:
        if self.tls_context is not None:
            if script.get("tls") == STALL:  # take the ClientHello and never answer it
                conn.wait_closed()
                return "script"
            conn.sock.settimeout(10)
            try:
                conn.sock = self.tls_context.wrap_socket(conn.sock, server_side=True)
            except (OSError, ssl.SSLError) as e:
                return f"TLS handshake failed: {e!r}"
            conn.sock.settimeout(0.2)
        go, _ = self._act(conn, script, "greeting", b"220 upstream.test ESMTP scripted\r\n")
        if not go:
            return "script"
        while True:
            line = conn.readline()
            if line is None:
                return "stopped" if self._stop.is_set() else "client closed"
            with self.lock:
                log.commands.append(line)
            verb = line.split(b" ", 1)[0].split(b":", 1)[0].upper()
            if verb in (b"EHLO", b"HELO"):
                go, _ = self._act(conn, script, "EHLO", EHLO_REPLY if verb == b"EHLO" else b"250 upstream.test\r\n")
            elif verb == b"MAIL":
                go, _ = self._act(conn, script, "MAIL", b"250 2.1.0 Ok\r\n")
            elif verb == b"RCPT":
                go, _ = self._act(conn, script, "RCPT", b"250 2.1.5 Ok\r\n")
            elif verb == b"DATA":
                go, _ = self._act(conn, script, "DATA", b"354 End data with <CR><LF>.<CR><LF>\r\n")
                if go:
                    content = conn.read_data(log, script.get("data_close_after"))
                    if content is None:
                        return "script" if script.get("data_close_after") else "client closed"
                    log.dots += 1
                    with self.lock:
                        number = sum(self.delivered.values()) + 1
                    go, sent = self._act(conn, script, "dot", f"250 2.0.0 Ok: queued as S{number}\r\n".encode())
                    log.replies_to_dot.append(sent)
                    if sent.startswith(b"2") and sent.endswith(b"\r\n"):  # the upstream took responsibility
                        self._accepted(unstuff(content))
            elif verb == b"RSET" or verb == b"NOOP":
                go = conn.send(b"250 2.0.0 Ok\r\n")
            elif verb == b"QUIT":
                conn.send(b"221 2.0.0 Bye\r\n")
                return "quit"
            else:
                go = conn.send(b"502 5.5.2 Command not recognized\r\n")
            if not go:
                return "script"

    def _accepted(self, content: bytes) -> None:
        m = MESSAGE_ID.search(content.split(b"\r\n\r\n", 1)[0] + b"\r\n")
        with self.lock:
            self.delivered[m.group(1).decode() if m else None] += 1
            self.messages.append(content)
            self.lock.notify_all()

    # -- inspection -----------------------------------------------------------------------------
    def wait_for(self, predicate, timeout: float, what: str):
        return wait_on(self.lock, predicate, timeout,
                       lambda: f"scripted upstream: {what} not within {timeout}s\n{self.transcript()}")

    def transcript(self, limit: int = 60) -> str:
        with self.lock:
            out = [f"session {s.n} script={s.script} ended={s.ended!r} data_bytes={s.data_bytes} dots={s.dots} "
                   f"replies_to_dot={s.replies_to_dot} commands={[c[:60] for c in s.commands]}"
                   for s in self.sessions[-limit:]]
            out.append(f"delivered: {dict(self.delivered)}")
        return "\n".join(out)


@pytest.fixture
def scripted_upstream(request):
    """Start ScriptedUpstreams; each is stopped after the test (and shown in a failure report)."""
    made: list[ScriptedUpstream] = []

    def make(scripts=(), **kw) -> ScriptedUpstream:
        up = ScriptedUpstream(scripts, **kw).start()
        made.append(up)
        return up

    request.node.upstreams = made  # conftest's report hook prints up.transcript() on failure
    yield make
    for up in made:
        up.stop()


# -- helpers ------------------------------------------------------------------------------------------

def relay_config(up: ScriptedUpstream, **upstream) -> dict:
    conf = {"host": up.host, "port": up.port, "tls": up.tls, "connect_timeout": TIMEOUT,
            "command_timeout": TIMEOUT, "data_timeout": TIMEOUT}
    conf.update(upstream)
    return {"upstream": conf, "retry": RETRY}


def new_message(label: str, body: bytes = b"Hello upstream.\r\n.a line with a leading dot\r\n") -> tuple[str, bytes]:
    mid = f"<fault-{label}-{uuid.uuid4().hex[:12]}@test.example>"
    head = (f"From: <a@example.com>\r\nTo: <b@example.com>\r\nSubject: fault {label}\r\n"
            f"Message-ID: {mid}\r\n\r\n").encode()
    return mid, head + body


def submit(relay, data: bytes) -> str:
    with SMTPWire(relay.host, relay.port) as c:
        c.start()
        r = c.send_message("a@example.com", ["b@example.com"], data)
        assert r.code == 250 and r.queue_id, f"relayd did not accept the message: {r}"
        c.cmd("QUIT")
        return r.queue_id


def deliveries(relay, qid: str) -> list[dict]:
    return [r for r in relay.log_records() if r.get("msg") == "delivery" and r.get("id") == qid]


def show(records: list[dict]) -> str:
    return "\n".join(" ".join(f"{k}={v}" for k, v in r.items()) for r in records)


def wait_delivery(relay, qid: str, status: str, timeout: float = 20.0) -> dict:
    return relay.wait_for_log(
        lambda r: r.get("msg") == "delivery" and r.get("id") == qid and r.get("status") == status,
        timeout, f"delivery id={qid} status={status}")


def wait_queue_empty(relay, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while relay.queued_ids():
        assert time.monotonic() < deadline, f"still queued {timeout}s after delivery: {relay.queued_ids()}"
        time.sleep(0.05)


def assert_deferred_then_delivered_once(relay, up: ScriptedUpstream, qid: str, mid: str, sent: bytes,
                                        reason: re.Pattern) -> dict:
    """The first attempt is deferred with a reply matching `reason`; the message then arrives exactly once,
    intact, and relayd's queue drains. Returns the first deferral record."""
    first = wait_delivery(relay, qid, "deferred")
    assert reason.search(first.get("reply", "")), \
        f"the deferral should name the reason ({reason.pattern}):\n{show([first])}"
    sent_rec = wait_delivery(relay, qid, "sent")
    up.wait_for(lambda: up.delivered[mid] >= 1, 5, f"the upstream to accept {mid}")
    wait_queue_empty(relay)
    time.sleep(0.5)  # a duplicate would come from another attempt, which an emptied queue cannot start
    records = deliveries(relay, qid)
    assert up.delivered[mid] == 1, f"{mid} accepted {up.delivered[mid]} times:\n{up.transcript()}"
    assert sum(up.delivered.values()) == 1, up.transcript()
    assert [r.get("status") for r in records].count("sent") == 1, show(records)
    assert records[-1].get("status") == "sent", show(records)
    assert all(r.get("status") in ("deferred", "sent") for r in records), show(records)
    assert int(sent_rec.get("attempts", "0")) >= 2, show(records)
    [got] = up.messages
    received, rest = split_received(got)
    assert received and rest == sent, f"the delivered copy differs from what was sent:\n{got[:300]!r}"
    return first


# -- 1. connection closed in the middle of DATA ----------------------------------------------------------

@pytest.mark.parametrize("close_after", [40, 200_000], ids=["in-headers", "after-200k"])
def test_close_in_the_middle_of_data(relay_factory, scripted_upstream, close_after):
    up = scripted_upstream([{"data_close_after": close_after}])
    relay = relay_factory(relay_config(up))
    body = b"".join(b"line %06d " % i + b"x" * 60 + b"\r\n" for i in range(12_000))  # ~850 KB
    mid, sent = new_message("mid-data", body)
    qid = submit(relay, sent)
    first = assert_deferred_then_delivered_once(
        relay, up, qid, mid, sent, re.compile(r"lost connection.*(closed|reset|broken pipe)", re.I))
    s1 = up.sessions[0]
    assert s1.dots == 0 and 0 < s1.data_bytes < len(dot_stuff(sent)), up.transcript()
    print(f"deferral: {first.get('reply')}")


# -- 2. stalls past the timeouts -------------------------------------------------------------------------

@pytest.mark.parametrize("step", ["greeting", "MAIL", "dot"])
def test_stall_past_the_timeout(relay_factory, scripted_upstream, step):
    """Silence where a reply is due: command_timeout (greeting, MAIL) or data_timeout (final dot), both 2 s; the
    reason says which reply was awaited (after the dot the upstream may already have the message).
    After a stall at the dot the upstream may or may not have taken the message; it never said so, so relayd
    must try again (at-least-once) - and the server here counts the silent transaction as not delivered."""
    up = scripted_upstream([{step: STALL}])
    relay = relay_factory(relay_config(up))
    mid, sent = new_message(f"stall-{step}")
    started = time.monotonic()
    qid = submit(relay, sent)
    awaited = {"greeting": "the greeting", "MAIL": "the reply to MAIL", "dot": "the reply to the final dot"}[step]
    first = assert_deferred_then_delivered_once(
        relay, up, qid, mid, sent, re.compile(r"no reply within 2(\.0+)? ?s.*\(waiting for " + awaited + r"\)", re.I))
    assert time.monotonic() - started < 20
    assert 1.8 <= float(first.get("attempt_time", "0")) <= 6, f"deferred before/long after the 2 s timeout:\n{show([first])}"
    if step == "dot":
        assert up.sessions[0].dots == 1 and up.sessions[0].replies_to_dot == [b""], up.transcript()
    print(f"deferral: {first.get('reply')}")


# -- 3. garbage instead of SMTP ----------------------------------------------------------------------------

GARBAGE = {"http": b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", "no-code": b"hello there\r\n"}


@pytest.mark.parametrize("garbage", sorted(GARBAGE))
@pytest.mark.parametrize("step", ["greeting", "EHLO"])
def test_garbage_reply(relay_factory, scripted_upstream, step, garbage):
    up = scripted_upstream([{step: Reply(GARBAGE[garbage])}])
    relay = relay_factory(relay_config(up))
    mid, sent = new_message(f"garbage-{step}-{garbage}")
    qid = submit(relay, sent)
    first = assert_deferred_then_delivered_once(relay, up, qid, mid, sent, re.compile(r"malformed reply", re.I))
    assert not [c for c in up.sessions[0].commands if c.upper().startswith(b"MAIL")], \
        f"relayd went on after a garbage {step} reply: {up.transcript()}"
    print(f"deferral: {first.get('reply')}")


# -- 4. replies split across packets ------------------------------------------------------------------------

SPLITS = {
    # the EHLO reply cut in the middle of a line, between lines, and between CR and LF
    "ehlo": {"EHLO": Chunks((EHLO_REPLY[:9], EHLO_REPLY[9:EHLO_REPLY.index(b"\r\n") + 2],
                             EHLO_REPLY[EHLO_REPLY.index(b"\r\n") + 2: EHLO_REPLY.index(b"ENHANCED") + 6],
                             EHLO_REPLY[EHLO_REPLY.index(b"ENHANCED") + 6: -1], EHLO_REPLY[-1:]))},
    # the greeting one byte at a time
    "greeting": {"greeting": Chunks(tuple(bytes([b]) for b in b"220 upstream.test ESMTP\r\n"), pause=0.02)},
    # the 250 to the final dot in two, and in three ending with a lone LF
    "dot-two": {"dot": Chunks((b"250 2.0.0 Ok: que", b"ued as SPLIT1\r\n"))},
    "dot-crlf": {"dot": Chunks((b"25", b"0 2.0.0 Ok: queued as SPLIT2\r", b"\n"))},
}


@pytest.mark.parametrize("case", sorted(SPLITS))
def test_split_replies_deliver_on_the_first_attempt(relay_factory, scripted_upstream, case):
    up = scripted_upstream([SPLITS[case]])
    relay = relay_factory(relay_config(up))
    mid, sent = new_message(f"split-{case}")
    qid = submit(relay, sent)
    rec = wait_delivery(relay, qid, "sent")
    wait_queue_empty(relay)
    time.sleep(0.5)
    records = deliveries(relay, qid)
    assert [r.get("status") for r in records] == ["sent"], f"expected one attempt, sent:\n{show(records)}"
    assert rec.get("attempts") == "1", show(records)
    assert up.delivered[mid] == 1 and sum(up.delivered.values()) == 1, up.transcript()
    assert len([s for s in up.sessions if s.dots]) == 1, up.transcript()
    assert up.sessions[0].dots == 1, f"the split-reply connection should have carried the message: {up.transcript()}"


# -- 5. 421 at each step ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("step", ["greeting", "EHLO", "MAIL", "RCPT", "DATA", "dot"])
def test_421_at_each_step(relay_factory, scripted_upstream, step):
    """421 4.3.0 and the connection closed, as RFC 5321 3.8 has it. After the final dot a 421 means the
    message was not accepted: exactly one copy must arrive, from the retry."""
    up = scripted_upstream([{step: Reply(b"421 4.3.0 upstream.test closing at " + step.encode() + b"\r\n",
                                         close=True)}])
    relay = relay_factory(relay_config(up))
    mid, sent = new_message(f"421-{step}")
    qid = submit(relay, sent)
    first = assert_deferred_then_delivered_once(
        relay, up, qid, mid, sent, re.compile(r"421 4\.3\.0 upstream\.test closing at " + step))
    print(f"deferral: {first.get('reply')}")


# -- 6. implicit TLS handshake that stalls -------------------------------------------------------------------

def test_implicit_tls_handshake_stall(relay_factory, scripted_upstream, test_ca, wire):
    """The upstream accepts TCP and never answers the ClientHello: deferred after connect_timeout (which
    covers the implicit-TLS handshake) with a reason naming TLS / the timeout; relayd keeps answering SMTP
    meanwhile; the next (working implicit-TLS) connection delivers the message once."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(str(test_ca.good.chain), str(test_ca.good.key))
    up = scripted_upstream([{"tls": STALL}], tls_context=ctx)
    relay = relay_factory(relay_config(up, ca_file=str(test_ca.ca.ca_cert), verify_certificate=True))
    mid, sent = new_message("tls-stall")
    qid = submit(relay, sent)

    # while the handshake hangs, relayd still greets and answers at once
    up.wait_for(lambda: up.sessions, 5, "relayd's TLS connection")
    t = time.monotonic()
    c = wire(relay)
    c.start()
    assert c.cmd("NOOP").code == 250
    c.cmd("QUIT")
    assert time.monotonic() - t < 1.5, "relayd's SMTP side was slow while an upstream TLS handshake hung"

    first = assert_deferred_then_delivered_once(
        relay, up, qid, mid, sent, re.compile(r"TLS.*timed out|timed out.*TLS|handshake.*time", re.I))
    assert 1.8 <= float(first.get("attempt_time", "0")) <= 6, f"not deferred at connect_timeout (2 s):\n{show([first])}"
    print(f"deferral: {first.get('reply')}")


# -- 7. the upstream's name does not resolve -------------------------------------------------------------------

def _resolution_fails_promptly(name: str, within: float = 3.0) -> str | None:
    """Why `name` does not resolve here (a gaierror text), or None if it resolves or the lookup hangs."""
    result: list = []

    def look():
        try:
            socket.getaddrinfo(name, 25)
            result.append(None)
        except socket.gaierror as e:
            result.append(str(e))

    t = threading.Thread(target=look, daemon=True)
    t.start()
    t.join(within)
    return result[0] if result else None


def test_unresolvable_upstream_name(relay_factory, scripted_upstream):
    """`.invalid` never resolves (RFC 2606). With `hosts: files dns` glibc still asks the configured
    resolver, which answers NXDOMAIN at once; if the lookup hangs here the test is skipped. The deferral must
    name the resolution failure and the name; after the host is fixed (reload) the message is delivered once."""
    name = "no-such-host.invalid"
    why = _resolution_fails_promptly(name)
    if why is None:
        pytest.skip(f"resolving {name} does not fail promptly on this machine (no reachable resolver?)")
    up = scripted_upstream()
    relay = relay_factory(relay_config(up, host=name))
    mid, sent = new_message("dns")
    qid = submit(relay, sent)
    first = wait_delivery(relay, qid, "deferred")
    reply = first.get("reply", "")
    assert re.search(r"cannot resolve", reply, re.I) and name in reply, \
        f"the deferral should say {name} does not resolve:\n{show([first])}"
    # retried, still the same reason (possibly as "delivery temporarily suspended: ..."), nothing sent
    relay.wait_for_log(lambda r: r.get("msg") == "delivery" and r.get("id") == qid
                       and r.get("attempts") == "2", 10, "a second attempt")
    assert all(r.get("status") == "deferred" and name in r.get("reply", "") for r in deliveries(relay, qid)), \
        show(deliveries(relay, qid))
    assert qid in relay.queued_ids() and not up.sessions

    # fix the name: SIGHUP reload with host 127.0.0.1 -> delivered exactly once
    relay.config["upstream"]["host"] = up.host
    relay.config_path.write_text(to_yaml(relay.config))
    relay.proc.send_signal(signal.SIGHUP)
    relay.wait_for_log(lambda r: r.get("msg", "").startswith("configuration reloaded"), 10, "the reload")
    wait_delivery(relay, qid, "sent")
    wait_queue_empty(relay)
    time.sleep(0.5)
    assert up.delivered[mid] == 1 and sum(up.delivered.values()) == 1, up.transcript()
    [got] = up.messages
    assert split_received(got)[1] == sent
