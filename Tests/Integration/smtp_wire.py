"""A tiny SMTP client over a raw socket, for tests that need exact bytes on the wire.

Unlike smtplib it never fixes line endings, never dot-stuffs on its own and lets a test
send anything (bare LF, NUL, 2000-octet lines, pipelined batches) and read the replies
one by one, multi-line replies included.
"""

from __future__ import annotations

import re
import socket
import time
from dataclasses import dataclass

CRLF = b"\r\n"
ENHANCED = re.compile(r"^[245]\.\d{1,3}\.\d{1,3}$")
QUEUED_AS = re.compile(r"queued as ([0-9A-Za-z]+)")


class ConnectionClosed(Exception):
    """The server closed the connection before a complete reply arrived."""


@dataclass
class Reply:
    """One complete SMTP reply (possibly multi-line)."""

    code: int
    lines: list[str]  # text after "NNN-" / "NNN " on each line

    @property
    def text(self) -> str:
        return self.lines[-1] if self.lines else ""

    @property
    def enhanced(self) -> str | None:
        """The RFC 3463 enhanced status code of the first line, if any."""
        first = self.lines[0].split(" ", 1)[0] if self.lines and self.lines[0] else ""
        return first if ENHANCED.match(first) else None

    @property
    def status(self) -> str:
        """"NNN x.y.z" (or just "NNN") — what the tests compare against."""
        return f"{self.code} {self.enhanced}" if self.enhanced else str(self.code)

    @property
    def queue_id(self) -> str | None:
        m = QUEUED_AS.search(" ".join(self.lines))
        return m.group(1) if m else None

    def keywords(self) -> set[str]:
        """EHLO keywords (upper-case first word of every line but the first)."""
        return {line.split(" ", 1)[0].upper() for line in self.lines[1:] if line}

    def keyword_args(self, keyword: str) -> list[str] | None:
        for line in self.lines[1:]:
            parts = line.split()
            if parts and parts[0].upper() == keyword.upper():
                return parts[1:]
        return None

    def __str__(self) -> str:
        if not self.lines:
            return str(self.code)
        return "\n".join(
            f"{self.code}{'-' if i < len(self.lines) - 1 else ' '}{line}" for i, line in enumerate(self.lines)
        )


class SMTPWire:
    """A raw SMTP connection. Every read has a timeout; nothing blocks forever."""

    def __init__(self, host: str, port: int, *, timeout: float = 15.0, source: str | None = None):
        self.timeout = timeout
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        if source:
            self.sock.bind((source, 0))
        self.sock.connect((host, port))
        self.buf = b""
        self.closed_by_peer = False

    # -- lifecycle -------------------------------------------------------------------------
    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self) -> "SMTPWire":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------------------
    def send(self, data: bytes | str) -> None:
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    # -- reading ---------------------------------------------------------------------------
    def _fill(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"no complete reply; buffered so far: {self.buf!r}")
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            raise TimeoutError(f"no complete reply; buffered so far: {self.buf!r}") from None
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            self.closed_by_peer = True
            raise ConnectionClosed(f"connection closed; buffered: {self.buf!r}")
        self.buf += chunk

    def _line(self, deadline: float) -> bytes:
        while CRLF not in self.buf:
            if len(self.buf) > 1 << 20:
                raise AssertionError("reply line longer than 1 MiB")
            self._fill(deadline)
        line, self.buf = self.buf.split(CRLF, 1)
        return line

    def reply(self, timeout: float | None = None) -> Reply:
        """Read one complete reply (all continuation lines)."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        code: int | None = None
        lines: list[str] = []
        while True:
            raw = self._line(deadline).decode("utf-8", "replace")
            if len(raw) < 3 or not raw[:3].isdigit():
                raise AssertionError(f"malformed reply line {raw!r}")
            this = int(raw[:3])
            if code is not None and this != code:
                raise AssertionError(f"reply code changed inside a multi-line reply: {lines!r} then {raw!r}")
            code = this
            sep = raw[3:4]
            lines.append(raw[4:])
            if sep in ("", " "):
                return Reply(code, lines)
            if sep != "-":
                raise AssertionError(f"malformed reply line {raw!r}")

    def replies(self, n: int, timeout: float | None = None) -> list[Reply]:
        return [self.reply(timeout) for _ in range(n)]

    def cmd(self, line: str | bytes, timeout: float | None = None) -> Reply:
        """Send one command line (CRLF appended) and read its reply."""
        if isinstance(line, str):
            line = line.encode()
        self.send(line + CRLF)
        return self.reply(timeout)

    def nothing_within(self, seconds: float) -> bool:
        """True if the server sent no bytes (and did not close) within `seconds`."""
        if self.buf:
            return False
        self.sock.settimeout(seconds)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            return True
        finally:
            self.sock.settimeout(self.timeout)
        if not chunk:
            self.closed_by_peer = True
        self.buf += chunk
        return False

    def wait_closed(self, timeout: float = 10.0) -> bool:
        """Read until EOF; True if the peer closed within `timeout` (extra bytes are kept in buf)."""
        deadline = time.monotonic() + timeout
        if self.closed_by_peer:
            return True
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return False
            except ConnectionResetError:
                self.closed_by_peer = True
                return True
            if not chunk:
                self.closed_by_peer = True
                return True
            self.buf += chunk
        return False

    # -- conveniences ----------------------------------------------------------------------
    def greeting(self) -> Reply:
        return self.reply()

    def ehlo(self, name: str = "client.example") -> Reply:
        return self.cmd(f"EHLO {name}")

    def start(self, name: str = "client.example") -> Reply:
        """Read the greeting and send EHLO, asserting both succeed."""
        g = self.greeting()
        assert g.code == 220, f"greeting: {g}"
        r = self.ehlo(name)
        assert r.code == 250, f"EHLO: {r}"
        return r

    def send_message(self, mail_from: str, rcpts: list[str], data: bytes) -> Reply:
        """One complete transaction without pipelining; returns the reply to the final dot.

        `data` is the message as it should arrive (CRLF line endings); it is dot-stuffed here.
        """
        r = self.cmd(f"MAIL FROM:<{mail_from}>")
        assert r.code == 250, f"MAIL: {r}"
        for rcpt in rcpts:
            r = self.cmd(f"RCPT TO:<{rcpt}>")
            assert r.code == 250, f"RCPT {rcpt}: {r}"
        r = self.cmd("DATA")
        assert r.code == 354, f"DATA: {r}"
        self.send(dot_stuff(data) + b".\r\n")
        return self.reply()


def dot_stuff(data: bytes) -> bytes:
    """RFC 5321 4.5.2 transparency, and make sure the data ends with CRLF."""
    if not data.endswith(CRLF):
        data += CRLF
    lines = data.split(CRLF)[:-1]
    return b"".join((b"." + line if line.startswith(b".") else line) + CRLF for line in lines)


def message(subject: str, body: str | bytes, *, sender: str = "sender@example.com",
            to: str = "rcpt@example.com", extra_headers: str = "") -> bytes:
    """A small RFC 5322 message with CRLF line endings."""
    if isinstance(body, str):
        body = body.encode()
    head = (
        f"From: <{sender}>\r\nTo: <{to}>\r\nSubject: {subject}\r\n"
        f"Message-ID: <{subject.replace(' ', '.')}@test.example>\r\n{extra_headers}\r\n"
    ).encode()
    body = body.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if not body.endswith(CRLF):
        body += CRLF
    return head + body
