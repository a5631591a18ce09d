"""An SMTP sink that notes the moment it answers 250 to each message: the upstream of the relay-latency test.

Run as its own process (so its timing never waits for the benchmark's GIL):

    python3 bench_timestamp_sink.py PORT

It listens on 127.0.0.1:PORT, prints `listening PORT`, `+conn` for each connection it accepts, and one
line per message it accepts:

    SEQ MONOTONIC_NS

SEQ is the value of the message's `X-Bench-Seq:` header (`-` when there is none) and MONOTONIC_NS is
`time.monotonic_ns()` taken just before the 250 that ends DATA is written. CLOCK_MONOTONIC is one clock for
the whole system on Linux, so the benchmark process can subtract its own `time.monotonic_ns()` readings.

SMTP: greeting, EHLO (PIPELINING, 8BITMIME, SIZE, ENHANCEDSTATUSCODES) / HELO, MAIL, RCPT, DATA, RSET, NOOP,
QUIT; anything else gets 502. Pipelined commands are answered in order. Messages are read and dropped.

`TimestampSink` starts that process and collects its lines for the benchmark.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

HOST = "127.0.0.1"
SEQ_HEADER = b"x-bench-seq:"
MAX_SIZE = 100 * 1024 * 1024


# -- the server (child process) -----------------------------------------------------------------
async def _session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    def reply(text: str) -> None:
        writer.write(text.encode() + b"\r\n")

    sys.stdout.write("+conn\n")  # counted, to show whether the relay reuses its upstream connections
    reply("220 sink.bench.test ESMTP timestamp sink")
    have_from = False
    rcpts = 0
    try:
        while True:
            line = await reader.readline()
            if not line:
                return
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                have_from, rcpts = False, 0
                if verb == b"EHLO":
                    reply("250-sink.bench.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n"
                          f"250-SIZE {MAX_SIZE}\r\n250 ENHANCEDSTATUSCODES")
                else:
                    reply("250 sink.bench.test")
            elif verb == b"MAIL":
                have_from, rcpts = True, 0
                reply("250 2.1.0 Ok")
            elif verb == b"RCPT":
                if not have_from:
                    reply("503 5.5.1 Error: need MAIL command")
                else:
                    rcpts += 1
                    reply("250 2.1.5 Ok")
            elif verb == b"DATA":
                if not rcpts:
                    reply("503 5.5.1 Error: need RCPT command")
                    continue
                reply("354 End data with <CR><LF>.<CR><LF>")
                await writer.drain()
                seq = "-"
                in_header = True
                while True:
                    data = await reader.readline()
                    if not data:
                        return
                    if data in (b".\r\n", b".\n"):
                        break
                    if in_header:
                        if data in (b"\r\n", b"\n"):
                            in_header = False
                        elif data[:len(SEQ_HEADER)].lower() == SEQ_HEADER:
                            seq = data[len(SEQ_HEADER):].strip().decode(errors="replace")
                t = time.monotonic_ns()
                reply("250 2.0.0 Ok: queued")
                sys.stdout.write(f"{seq} {t}\n")
                sys.stdout.flush()
                have_from, rcpts = False, 0
            elif verb == b"RSET":
                have_from, rcpts = False, 0
                reply("250 2.0.0 Ok")
            elif verb == b"NOOP":
                reply("250 2.0.0 Ok")
            elif verb == b"QUIT":
                reply("221 2.0.0 Bye")
                await writer.drain()
                return
            else:
                reply("502 5.5.2 Error: command not recognized")
            await writer.drain()  # transport.write has already sent it unless the socket is full
    except (ConnectionError, asyncio.LimitOverrunError, ValueError):
        return
    finally:
        writer.close()


async def _serve(port: int) -> None:
    server = await asyncio.start_server(_session, HOST, port, limit=1 << 20, backlog=1024)
    sys.stdout.write(f"listening {port}\n")
    sys.stdout.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


# -- the benchmark's side -----------------------------------------------------------------------
class TimestampSink:
    """Runs the sink above as a child process on a free port and collects its timestamps.

    Same interface as bench_postfix.SmtpSink (start, stop, count, port), plus `wait_for(seq)`.
    """

    def __init__(self, workdir: Path, port: int | None = None):
        import bench_proc as bp
        self.workdir = workdir
        self.port = port or bp.free_port()
        self.err_path = workdir / "timestamp-sink.err"
        self.proc: subprocess.Popen | None = None
        self.times: dict[str, int] = {}  # X-Bench-Seq -> monotonic ns of the 250
        self.untagged = 0
        self.connections = 0
        self.cond = threading.Condition()
        self.reader: threading.Thread | None = None

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        with open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen([sys.executable, "-u", __file__, str(self.port)], cwd=self.workdir,
                                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err)
        first = self.proc.stdout.readline().decode(errors="replace").strip()
        if not first.startswith("listening"):
            self.stop()
            raise RuntimeError(f"timestamp sink did not start: {first!r} {self.err_path.read_text()[-500:]}")
        self.reader = threading.Thread(target=self._read, name="timestamp-sink-reader", daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for raw in self.proc.stdout:
            if raw == b"+conn\n":
                self.connections += 1
                continue
            m = re.fullmatch(rb"(\S+) (\d+)\s*", raw)
            if not m:
                continue
            with self.cond:
                if m[1] == b"-":
                    self.untagged += 1
                else:
                    self.times.setdefault(m[1].decode(errors="replace"), int(m[2]))
                self.cond.notify_all()

    def wait_for(self, seq, timeout: float) -> int | None:
        """The sink's monotonic ns for message `seq`, waiting up to `timeout` s for it to arrive."""
        key = str(seq)
        deadline = time.monotonic() + timeout
        with self.cond:
            while key not in self.times:
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc is not None and self.proc.poll() is not None):
                    return None
                self.cond.wait(min(left, 0.5))
            return self.times[key]

    def count(self) -> int:
        with self.cond:
            return len(self.times) + self.untagged

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.reader is not None:
            self.reader.join(2)


if __name__ == "__main__":
    try:
        asyncio.run(_serve(int(sys.argv[1])))
    except KeyboardInterrupt:
        pass
    os._exit(0)
