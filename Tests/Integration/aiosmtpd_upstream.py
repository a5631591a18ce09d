"""An independent SMTP upstream for relayd's delivery tests: aiosmtpd in a thread of the pytest process.

    up = Upstream(tls="starttls", cert=server_cert, auth=("user", "secret"))
    up.start()                     # listens on 127.0.0.1:<free port>; up.port
    ... relayd delivers to it ...
    up.wait_for_messages(1)        # -> [Message]; every message it accepted, in order
    up.stop()

It is deliberately not relayd's own code: aiosmtpd (PyPI) speaks the server side. What it offers:

- TLS: `tls="none"` (plain; `offer_starttls=True` still offers STARTTLS without requiring it),
  `"starttls"` (STARTTLS offered and required: any MAIL/RCPT/DATA/AUTH before it gets 530),
  `"implicit"` (TLS from the first byte, like port 465). `cert` is a certificates.ServerCert.
- AUTH: `auth=(username, password)` requires AUTH before MAIL (only after TLS, unless tls="none");
  `mechanisms` limits what EHLO offers (PLAIN and/or LOGIN).
- PIPELINING is advertised by default, as real submission servers do (`pipelining=False` to hide it).
- Faults, changeable while running (`up.faults`):
  `mail` / `rcpt` / `data`: replies used, one each, for the next MAIL commands / RCPT commands /
  ends of DATA (e.g. `up.faults.mail.extend(["451 4.3.0 try again"] * 2)` = the first 2 transactions
  fail at MAIL); `rcpt_reply`: a fixed reply per recipient (e.g. 550 5.1.1 for one address).
  A 421 reply is followed by closing the connection, as RFC 5321 requires.
- Down: an Upstream that is not started (or stopped) leaves its port closed; `start()` again
  listens on the same port.

Recorded, thread-safe: `messages` (envelope sender, recipients, raw content bytes as received
after dot-unstuffing, whether the session was TLS, TLS version, the AUTH login and mechanism,
arrival time), `sessions` (every command line a client sent, with time and whether TLS was on at
that point, the EHLO name, AUTH attempts) and per-command counts. `count_by_message_id()` measures
duplicates.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

from waiting import wait_on

# aiosmtpd logs every session at INFO and a deprecation notice on each AUTH at WARNING.
logging.getLogger("mail.log").setLevel(logging.ERROR)

MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*(<[^>\r\n]*>)", re.I | re.M)


@dataclass
class Message:
    """One message the upstream accepted (250 after DATA)."""

    mail_from: str  # "" for the null sender <>
    rcpts: list[str]
    data: bytes  # exactly as received, after dot-unstuffing
    tls: bool
    tls_version: str | None
    login: str | None  # the authenticated user name, None without AUTH
    auth_mechanism: str | None
    session: int  # Session.id
    mail_options: list[str]
    at: float  # time.monotonic() when the upstream accepted it

    @property
    def message_id(self) -> str | None:
        m = MESSAGE_ID.search(self.headers())
        return m.group(1).decode(errors="replace") if m else None

    def headers(self) -> bytes:
        end = self.data.find(b"\r\n\r\n")
        return self.data if end < 0 else self.data[: end + 2]


@dataclass
class Command:
    line: bytes  # without CRLF
    tls: bool  # TLS was on when it arrived
    at: float

    @property
    def verb(self) -> str:
        return self.line.split(b" ", 1)[0].split(b":", 1)[0].upper().decode(errors="replace")


@dataclass
class Session:
    id: int
    peer: tuple
    started: float
    commands: list[Command] = field(default_factory=list)
    ehlo: str | None = None
    tls: bool = False  # TLS was on at some point (STARTTLS or implicit)
    auth: list[tuple[str, str, bool]] = field(default_factory=list)  # (mechanism, login, success)
    replies: list[str] = field(default_factory=list)  # fault replies this session got

    def verbs(self) -> list[str]:
        return [c.verb for c in self.commands]


class Faults:
    """Scripted failures; lists are consumed front first. Change them under `Upstream.lock` or before use."""

    def __init__(self):
        self.mail: collections.deque[str] = collections.deque()
        self.rcpt: collections.deque[str] = collections.deque()
        self.data: collections.deque[str] = collections.deque()
        self.rcpt_reply: dict[str, str] = {}
        # Seconds to wait after the final dot before taking the message and answering: a slow upstream, so
        # that a kill of relayd finds messages in flight.
        self.data_delay = 0.0


def server_context(cert) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(str(cert.chain), str(cert.key))
    return ctx


def _tls_of(transport) -> tuple[bool, str | None]:
    obj = transport.get_extra_info("ssl_object") if transport is not None else None
    return (obj is not None, obj.version() if obj is not None else None)


class _RecordingSMTP(SMTP):
    """aiosmtpd's SMTP that records every command line (before aiosmtpd judges it) and can
    close the connection right after a 421."""

    def __init__(self, handler, upstream: "Upstream", **kw):
        super().__init__(handler, **kw)
        self._upstream = upstream
        self.record: Session | None = None
        self.close_after_reply = False

    def _cb_client_connected(self, reader, writer):
        super()._cb_client_connected(reader, writer)
        self.record = self._upstream._new_session(writer.get_extra_info("peername"))
        if _tls_of(writer.transport)[0]:
            self.record.tls = True
        original, original_readline = reader.readuntil, reader.readline
        self._in_readline = False

        async def readline():  # only AUTH's challenge responses: not commands
            self._in_readline = True
            try:
                return await original_readline()
            finally:
                self._in_readline = False

        async def readuntil(separator=b"\n"):
            if self.close_after_reply:
                # The 421 is written; close instead of reading what the client pipelined after it.
                self.transport.close()
                await asyncio.sleep(10)  # connection_lost cancels this task long before
                if self.transport is not None:
                    self.transport.abort()
                raise ConnectionResetError("closed after 421")
            line = await original(separator)
            if separator == b"\n" and not self._in_readline:  # a command (DATA is read with b"\r\n")
                tls = _tls_of(self.transport)[0]
                self.record.tls = self.record.tls or tls
                self._upstream._command(self.record, line.rstrip(b"\r\n"), tls)
            return line

        reader.readuntil = readuntil
        reader.readline = readline


class _Handler:
    def __init__(self, upstream: "Upstream"):
        self.up = upstream

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        server.record.ehlo = hostname
        lines = [responses[0][4:]] + [r[4:] for r in responses[1:]]
        head, caps = lines[0], [c for c in lines[1:] if c != "HELP"]
        if not self.up.auth:
            caps = [c for c in caps if not c.upper().startswith("AUTH")]
        if self.up.pipelining:
            caps.append("PIPELINING")
        caps.append("ENHANCEDSTATUSCODES")
        out = [head] + caps
        return [f"250{'-' if i < len(out) - 1 else ' '}{line}" for i, line in enumerate(out)]

    def _fault(self, server, queue: collections.deque) -> str | None:
        with self.up.lock:
            reply = queue.popleft() if queue else None
        if reply is not None:
            server.record.replies.append(reply)
            if reply.startswith("421"):
                server.close_after_reply = True
        return reply

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.up.auth and not session.authenticated:
            return "530 5.7.0 Authentication required"
        reply = self._fault(server, self.up.faults.mail)
        if reply is not None:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 Ok"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self._fault(server, self.up.faults.rcpt)
        if reply is None:
            with self.up.lock:
                reply = self.up.faults.rcpt_reply.get(address.lower())
            if reply is not None:
                server.record.replies.append(reply)
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        reply = self._fault(server, self.up.faults.data)
        if reply is not None:
            return reply
        if self.up.faults.data_delay:
            await asyncio.sleep(self.up.faults.data_delay)
        tls, version = _tls_of(server.transport)
        auth = session.auth_data if session.authenticated else None
        mech = next((m for m, _, ok in reversed(server.record.auth) if ok), None)
        msg = Message(
            mail_from="" if envelope.mail_from == "<>" else envelope.mail_from,
            rcpts=list(envelope.rcpt_tos),
            data=bytes(envelope.original_content),
            tls=tls,
            tls_version=version,
            login=auth.login.decode(errors="replace") if isinstance(auth, LoginPassword) else None,
            auth_mechanism=mech,
            session=server.record.id,
            mail_options=list(envelope.mail_options),
            at=time.monotonic(),
        )
        with self.up.lock:
            self.up.messages.append(msg)
            self.up.changed.notify_all()
        return f"250 2.0.0 Ok: queued as UP{len(self.up.messages)}"


class Upstream:
    """See the module docstring."""

    def __init__(self, *, tls: str = "none", cert=None, auth: tuple[str, str] | None = None,
                 mechanisms: tuple[str, ...] = ("PLAIN", "LOGIN"), offer_starttls: bool | None = None,
                 pipelining: bool = True, host: str = "127.0.0.1", port: int | None = None,
                 hostname: str = "upstream.test"):
        if tls not in ("none", "starttls", "implicit"):
            raise ValueError(tls)
        if tls != "none" or offer_starttls:
            if cert is None:
                raise ValueError("TLS needs a server certificate")
        self.tls = tls
        self.cert = cert
        self.auth = auth
        self.mechanisms = tuple(m.upper() for m in mechanisms)
        self.offer_starttls = offer_starttls if offer_starttls is not None else tls == "starttls"
        self.pipelining = pipelining
        self.host = host
        self.port = port or _free_port(host)
        self.hostname = hostname
        self.faults = Faults()
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.messages: list[Message] = []
        self.sessions: list[Session] = []
        self._controller: Controller | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> "Upstream":
        assert self._controller is None, "already running"
        up = self
        kw: dict = dict(
            hostname=self.host, port=self.port, server_hostname=self.hostname, ready_timeout=10,
            enable_SMTPUTF8=True, decode_data=False, data_size_limit=64 * 1024 * 1024,
        )
        if self.tls == "implicit":
            kw["ssl_context"] = server_context(self.cert)
        elif self.offer_starttls:
            kw["tls_context"] = server_context(self.cert)
            kw["require_starttls"] = self.tls == "starttls"
        if self.auth:
            # AUTH is required by handle_MAIL (530 5.7.0) rather than by aiosmtpd's auth_required, which
            # warns whenever it is combined with auth_require_tls=False.
            # aiosmtpd only knows STARTTLS as "TLS"; an implicit-TLS connection is TLS throughout.
            kw["auth_require_tls"] = self.tls == "starttls"
            kw["authenticator"] = self._authenticate
            kw["auth_exclude_mechanism"] = [m for m in ("PLAIN", "LOGIN") if m not in self.mechanisms]

        class _Controller(Controller):
            def factory(self):
                return _RecordingSMTP(self.handler, up, **self.SMTP_kwargs)

        controller = _Controller(_Handler(self), **kw)
        controller.start()
        self._controller = controller
        return self

    def stop(self) -> None:
        """Close the listener and every connection: the port is closed afterwards."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> "Upstream":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- server-side callbacks ---------------------------------------------------------------
    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = False
        login = ""
        if isinstance(auth_data, LoginPassword):
            login = auth_data.login.decode(errors="replace")
            ok = (auth_data.login, auth_data.password) == (self.auth[0].encode(), self.auth[1].encode())
        server.record.auth.append((mechanism, login, ok))
        if ok:
            return AuthResult(success=True, auth_data=auth_data)
        return AuthResult(success=False, handled=False)

    def _new_session(self, peer) -> Session:
        with self.lock:
            s = Session(id=len(self.sessions) + 1, peer=peer, started=time.monotonic())
            self.sessions.append(s)
            return s

    def _command(self, session: Session, line: bytes, tls: bool) -> None:
        with self.lock:
            session.commands.append(Command(line, tls, time.monotonic()))
            self.changed.notify_all()

    # -- inspection (any thread) --------------------------------------------------------------
    def snapshot(self) -> list[Message]:
        with self.lock:
            return list(self.messages)

    def wait_for(self, predicate, timeout: float, what: str = "condition"):
        """Wait until predicate() (called under the lock) is truthy; return its value."""
        return wait_on(self.changed, predicate, timeout, lambda: (
            f"upstream: {what} not reached within {timeout}s; it has {len(self.messages)} "
            f"message(s) and saw {len(self.sessions)} session(s)"))

    def wait_for_messages(self, n: int, timeout: float = 30.0, settle: float = 0.0) -> list[Message]:
        """Wait until at least `n` messages arrived; after `settle` s more, return them all."""
        self.wait_for(lambda: len(self.messages) >= n, timeout, f"{n} message(s)")
        if settle:
            time.sleep(settle)
        return self.snapshot()

    def client_sessions(self) -> list[Session]:
        """Sessions in which a client sent at least one command (Controller.start()'s own probe
        connection only reads the greeting)."""
        with self.lock:
            return [s for s in self.sessions if s.commands]

    def commands(self, verb: str | None = None) -> list[Command]:
        with self.lock:
            out = [c for s in self.sessions for c in s.commands]
        return [c for c in out if verb is None or c.verb == verb.upper()]

    def count_by_message_id(self) -> collections.Counter:
        return collections.Counter(m.message_id for m in self.snapshot())

    def transcript(self, limit: int = 60) -> str:
        """The last `limit` sessions' commands and fault replies, and the messages: for failure reports."""
        out = []
        with self.lock:
            for s in [s for s in self.sessions if s.commands][-limit:]:
                cmds = " | ".join(("[tls] " if c.tls else "") + c.line[:60].decode(errors="replace")
                                  for c in s.commands[:12])
                out.append(f"session {s.id} ehlo={s.ehlo} auth={s.auth} faults={s.replies}: {cmds}")
            for i, m in enumerate(self.messages[-limit:]):
                out.append(f"message {i + 1}: from=<{m.mail_from}> to={m.rcpts} tls={m.tls} login={m.login} "
                           f"id={m.message_id} {len(m.data)} bytes")
        return "\n".join(out) or "(nothing)"

    def relay_config(self, *, host: str | None = None, tls: str | None = None, retry: dict | None = None,
                     bounces: str | None = None, **upstream) -> dict:
        """relayd config overrides that point relayd at this upstream: `upstream.*` (host, port, tls
        and whatever else is given, e.g. ca_file=..., username=...) and, if given, `retry.*` and
        `bounces`."""
        conf = {"host": host or self.host, "port": self.port, "tls": tls or self.tls}
        conf.update({k: (str(v) if isinstance(v, Path) else v) for k, v in upstream.items()})
        out: dict = {"upstream": conf}
        if retry:
            out["retry"] = retry
        if bounces:
            out["bounces"] = bounces
        return out


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]
