"""The load generators: Postfix's smtp-source for throughput, and a Python client that behaves like
Mastodon's mailer (one connection per message, no pipelining) for latency, plus idle sessions."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from dataclasses import dataclass, field

HOST = "127.0.0.1"


# -- throughput: smtp-source ------------------------------------------------------------------
@dataclass
class SourceRun:
    seconds: float
    returncode: int
    output: str


def smtp_source(port: int, messages: int, sessions: int, size: int, timeout: float) -> SourceRun:
    """`smtp-source -s S -m M -l SIZE`: S parallel sessions, a new connection per message (no -d).

    Without -A, smtp-source stops with an error on any unexpected reply, so exit status 0 means every
    message got its 250.
    """
    cmd = ["smtp-source", "-4", "-s", str(sessions), "-m", str(messages), "-l", str(size),
           "-M", "client.bench.test", "-f", "a@bench.test", "-t", "b@bench.test", f"{HOST}:{port}"]
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
        rc, out = p.returncode, (p.stdout + p.stderr)
    except subprocess.TimeoutExpired as e:
        rc, out = -1, f"timed out after {timeout}s: {e}"
    return SourceRun(time.monotonic() - t0, rc, out.strip())


# -- latency: one connection per message, like Mastodon ------------------------------------
def message_body(size: int, seq: int, extra_headers: str = "") -> bytes:
    """Headers plus `size` bytes of body text, CRLF lines, no line starting with '.'."""
    head = (f"From: <a@bench.test>\r\nTo: <b@bench.test>\r\nSubject: bench {seq}\r\n{extra_headers}"
            f"Message-ID: <{seq}.{time.time_ns()}@bench.test>\r\nDate: Thu, 27 Nov 2025 08:00:00 +0000\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
    line = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor " * 2)[:62] + "\r\n"
    body = (line * (size // len(line) + 1))[:size]
    if not body.endswith("\r\n"):
        body = body[:-2] + "\r\n"
    return (head + body).encode()


class SMTPError(Exception):
    pass


async def _reply(reader: asyncio.StreamReader, timeout: float) -> tuple[int, str]:
    lines = []
    while True:
        line = await asyncio.wait_for(reader.readline(), timeout)
        if not line:
            raise SMTPError("connection closed")
        lines.append(line.decode(errors="replace").rstrip("\r\n"))
        if len(line) < 4 or line[3:4] != b"-":
            break
    try:
        return int(lines[-1][:3]), "\n".join(lines)
    except ValueError:
        raise SMTPError(f"bad reply {lines!r}") from None


async def _expect(reader, writer, command: bytes | None, code: int, timeout: float) -> str:
    if command is not None:
        writer.write(command)
        await writer.drain()
    got, text = await _reply(reader, timeout)
    if got != code:
        raise SMTPError(f"{command!r} -> {text}")
    return text


@dataclass
class LatencyResult:
    greeting: list[float] = field(default_factory=list)  # seconds, connect start -> 220 read
    dot: list[float] = field(default_factory=list)       # seconds, final dot written -> 250 read
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    sent: int = 0


async def _one_message(port: int, seq: int, size: int, res: LatencyResult,
                       connect_timeout: float, reply_timeout: float) -> None:
    t0 = time.perf_counter()
    reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), connect_timeout)
    try:
        await _expect(reader, writer, None, 220, connect_timeout)
        t_greet = time.perf_counter() - t0
        await _expect(reader, writer, b"EHLO client.bench.test\r\n", 250, reply_timeout)
        await _expect(reader, writer, b"MAIL FROM:<a@bench.test>\r\n", 250, reply_timeout)
        await _expect(reader, writer, b"RCPT TO:<b@bench.test>\r\n", 250, reply_timeout)
        await _expect(reader, writer, b"DATA\r\n", 354, reply_timeout)
        writer.write(message_body(size, seq))
        await writer.drain()
        t1 = time.perf_counter()
        await _expect(reader, writer, b".\r\n", 250, reply_timeout)
        t_dot = time.perf_counter() - t1
        await _expect(reader, writer, b"QUIT\r\n", 221, reply_timeout)
        res.greeting.append(t_greet)
        res.dot.append(t_dot)
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except OSError:
            pass


async def _latency(port: int, messages: int, workers: int, size: int, rate: float,
                   connect_timeout: float, reply_timeout: float) -> LatencyResult:
    res = LatencyResult()
    counter = iter(range(messages))
    t0 = time.perf_counter()

    async def send(seq: int) -> None:
        res.sent += 1
        try:
            await _one_message(port, seq, size, res, connect_timeout, reply_timeout)
        except (OSError, SMTPError, asyncio.TimeoutError) as e:
            res.errors.append(f"{type(e).__name__}: {e}")

    async def worker() -> None:
        for seq in counter:
            if rate > 0:  # open loop: message seq starts at seq/rate (or as soon as a worker is free)
                await asyncio.sleep(max(0.0, t0 + seq / rate - time.perf_counter()))
            await send(seq)

    await asyncio.gather(*(worker() for _ in range(workers)))
    res.seconds = time.perf_counter() - t0
    return res


def latency(port: int, messages: int, workers: int, size: int, rate: float = 0.0,
            connect_timeout: float = 5.0, reply_timeout: float = 20.0) -> LatencyResult:
    """`workers` concurrent clients, one connection per message. With rate 0 each worker sends back to
    back (closed loop, the server saturated); with rate R messages start R per second, at most
    `workers` at once (open loop: latency at a given load rather than at saturation).

    Timeouts are Mastodon's (5 s to connect and greet, 20 s per reply); a timeout counts as an error.
    """
    return asyncio.run(_latency(port, messages, workers, size, rate, connect_timeout, reply_timeout))


# -- relay latency: one message at a time through an idle relay -----------------------------
@dataclass
class RelayLatencyResult:
    relay: list[float] = field(default_factory=list)   # seconds, final dot sent -> upstream's 250 sent
    accept: list[float] = field(default_factory=list)  # seconds, final dot sent -> relay's 250 read
    handoff: list[float] = field(default_factory=list)  # seconds, relay's 250 read -> upstream's 250 sent
    errors: list[str] = field(default_factory=list)
    lost: int = 0  # accepted, but the upstream did not have it within the delivery timeout
    seconds: float = 0.0


def _sync_reply(f, timeout_note: str) -> tuple[int, str]:
    lines = []
    while True:
        line = f.readline()
        if not line:
            raise SMTPError(f"connection closed {timeout_note}")
        lines.append(line.decode(errors="replace").rstrip("\r\n"))
        if len(line) < 4 or line[3:4] != b"-":
            break
    try:
        return int(lines[-1][:3]), "\n".join(lines)
    except ValueError:
        raise SMTPError(f"bad reply {lines!r}") from None


def relay_latency(port: int, sink, messages: int, size: int, pause: float, warmup: int = 3,
                  reply_timeout: float = 20.0, delivery_timeout: float = 30.0) -> RelayLatencyResult:
    """One client, one message at a time, one connection per message (like Mastodon, no pipelining).

    For each message: the client notes CLOCK_MONOTONIC just before it sends the final ".", reads the
    relay's 250, QUITs, and waits until `sink` (a bench_timestamp_sink.TimestampSink, the relay's
    upstream) reports the monotonic time at which it answered 250 to that message (matched by an
    X-Bench-Seq header). Then it pauses `pause` seconds, so every message meets an idle relay.
    The first `warmup` messages are sent the same way but not counted (process start-up, first
    connections).
    """
    res = RelayLatencyResult()
    t_start = time.monotonic()
    for seq in range(-warmup, messages):
        tag = f"{seq}.{time.monotonic_ns()}"
        try:
            with socket.create_connection((HOST, port), timeout=reply_timeout) as s:
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                f = s.makefile("rb")

                def cmd(line: bytes | None, code: int) -> None:
                    if line is not None:
                        s.sendall(line)
                    got, text = _sync_reply(f, f"after {line!r}")
                    if got != code:
                        raise SMTPError(f"{line!r} -> {text}")

                cmd(None, 220)
                cmd(b"EHLO client.bench.test\r\n", 250)
                cmd(b"MAIL FROM:<a@bench.test>\r\n", 250)
                cmd(b"RCPT TO:<b@bench.test>\r\n", 250)
                cmd(b"DATA\r\n", 354)
                s.sendall(message_body(size, seq, f"X-Bench-Seq: {tag}\r\n"))
                t_dot = time.monotonic_ns()
                cmd(b".\r\n", 250)
                t_ok = time.monotonic_ns()
                cmd(b"QUIT\r\n", 221)
        except (OSError, SMTPError) as e:
            if seq >= 0:
                res.errors.append(f"{type(e).__name__}: {e}")
            time.sleep(pause)
            continue
        t_up = sink.wait_for(tag, delivery_timeout)
        if seq >= 0:
            if t_up is None:
                res.lost += 1
            else:
                res.relay.append((t_up - t_dot) / 1e9)
                res.accept.append((t_ok - t_dot) / 1e9)
                res.handoff.append((t_up - t_ok) / 1e9)
        time.sleep(pause)
    res.seconds = time.monotonic() - t_start
    return res


# -- idle sessions ----------------------------------------------------------------------------
@dataclass
class IdleResult:
    wanted: int
    greeted: int = 0
    failures: dict = field(default_factory=dict)
    open_seconds: float = 0.0
    readings: dict = field(default_factory=dict)


async def _idle(port: int, sessions: int, measure, settle: float, concurrency: int) -> IdleResult:
    res = IdleResult(wanted=sessions)
    writers: list[asyncio.StreamWriter] = []
    sem = asyncio.Semaphore(concurrency)

    def fail(kind: str) -> None:
        res.failures[kind] = res.failures.get(kind, 0) + 1

    async def open_one() -> None:
        async with sem:
            try:
                reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), 10)
            except (OSError, asyncio.TimeoutError) as e:
                fail(f"connect {type(e).__name__}")
                return
            writers.append(writer)
            try:
                line = await asyncio.wait_for(reader.readline(), 10)
            except (OSError, asyncio.TimeoutError) as e:
                fail(f"greeting {type(e).__name__}")
                return
            if line.startswith(b"220"):
                res.greeted += 1
            else:
                fail(f"greeting {line[:40]!r}")

    t0 = time.perf_counter()
    await asyncio.gather(*(open_one() for _ in range(sessions)))
    res.open_seconds = time.perf_counter() - t0
    await asyncio.sleep(settle)
    res.readings["loaded"] = measure()
    for w in writers:
        w.close()
    for w in writers:
        try:
            await w.wait_closed()
        except OSError:
            pass
    await asyncio.sleep(settle)
    res.readings["after"] = measure()
    return res


def idle_sessions(port: int, sessions: int, measure, settle: float = 2.0, concurrency: int = 200) -> IdleResult:
    """Open `sessions` SMTP connections (at most `concurrency` connecting at once, so the listen
    backlog is not the thing measured), wait for every 220, call `measure()` while all are held
    open, close them all, wait, and call `measure()` again."""
    return asyncio.run(_idle(port, sessions, measure, settle, concurrency))
