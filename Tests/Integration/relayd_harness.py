"""Start, probe and stop a real relayd process for black-box tests.

Everything here talks to loopback only. Each Relay lives in its own short temporary
directory (Unix socket paths must stay under 108 bytes) holding its config, spool,
outbox, control socket and log file.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
QUEUE_ID = re.compile(r"^[0-9A-Z]{4,32}$")
_BIN_CACHE: list[Path] = []


def relayd_binary() -> Path:
    """$RELAYD_BIN, or relayd in `swift build --show-bin-path` (the debug build)."""
    env = os.environ.get("RELAYD_BIN")
    if env:
        return Path(env)
    if not _BIN_CACHE:
        out = subprocess.run(
            ["swift", "build", "--show-bin-path"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300
        )
        if out.returncode != 0:
            raise RuntimeError(f"swift build --show-bin-path failed:\n{out.stderr}")
        _BIN_CACHE.append(Path(out.stdout.strip().splitlines()[-1]) / "relayd")
    return _BIN_CACHE[0]


def relayctl_binary() -> Path:
    """$RELAYCTL_BIN, or relayctl next to relayd_binary() (both products land in the same bin folder)."""
    env = os.environ.get("RELAYCTL_BIN")
    return Path(env) if env else relayd_binary().parent / "relayctl"


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago on `host`."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def to_yaml(value, indent: int = 0) -> str:
    """Block-style YAML for dicts/lists/scalars (enough for relayd's config)."""
    pad = "  " * indent
    if isinstance(value, dict):
        out = []
        for key, v in value.items():
            if isinstance(v, dict) and v:
                out.append(f"{pad}{key}:\n{to_yaml(v, indent + 1)}")
            elif isinstance(v, list) and v:
                out.append(f"{pad}{key}:\n" + "".join(f"{pad}  - {_scalar(item)}\n" for item in v))
            elif isinstance(v, list):
                out.append(f"{pad}{key}: []\n")
            else:
                out.append(f"{pad}{key}: {_scalar(v)}\n")
        return "".join(out)
    raise TypeError(value)


def _scalar(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    return json.dumps(str(v))  # a JSON string is a valid YAML double-quoted scalar


def deep_merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = v
    return out


class RelayStartError(RuntimeError):
    pass


class Relay:
    """One relayd process with its own temporary config, spool and outbox.

    Attributes a test uses: host, port, outbox, spool, control, log_path, config_path, proc.
    """

    def __init__(self, *, overrides: dict | None = None, env: dict | None = None, workdir: Path | None = None,
                 port: int | None = None):
        self.host = "127.0.0.1"
        self.workdir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="relayit-"))
        self.port = port or free_port(self.host)
        self.outbox = self.workdir / "outbox"
        self.spool = self.workdir / "spool"
        self.control = self.workdir / "relay.sock"
        self.config_path = self.workdir / "relayd.yaml"
        self.log_path = self.workdir / "relayd.log"
        self.extra_env = dict(env or {})
        self.config = deep_merge(
            {
                "hostname": "relay.test",
                "log": {"format": "logfmt", "level": "info"},
                "listen": {"smtp": [f"{self.host}:{self.port}"], "admin": "", "control": str(self.control)},
                "spool": {"path": str(self.spool)},
                "outbox": {"path": str(self.outbox)},
                "inbound": {"allowed_networks": ["127.0.0.0/8"]},
            },
            overrides or {},
        )
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    # -- process control -------------------------------------------------------------------
    def start(self, timeout: float = 30.0) -> "Relay":
        """Write the config, start relayd and wait until it greets with 220."""
        self.config_path.write_text(to_yaml(self.config))
        self.starts += 1
        env = {k: v for k, v in os.environ.items() if not k.startswith("RELAY_")}
        env.update(self.extra_env)
        log = open(self.log_path, "ab")
        log.write(f"--- start #{self.starts} ---\n".encode())
        log.flush()
        self.proc = subprocess.Popen(
            [str(relayd_binary()), "--config", str(self.config_path)],
            cwd=self.workdir, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
        )
        log.close()
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        last = "no connection attempted"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RelayStartError(f"relayd exited with {self.proc.returncode} before greeting:\n{self.log_tail()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=2) as s:
                    s.settimeout(max(0.5, deadline - time.monotonic()))
                    data = b""
                    while b"\r\n" not in data:
                        chunk = s.recv(4096)
                        if not chunk:
                            break
                        data += chunk
                    if data.startswith(b"220"):
                        s.sendall(b"QUIT\r\n")
                        try:  # wait for the 221 and the close so the slot is free again
                            while s.recv(4096):
                                pass
                        except OSError:
                            pass
                        return
                    last = f"unexpected greeting {data!r}"
            except OSError as e:
                last = repr(e)
            time.sleep(0.1)
        raise RelayStartError(f"relayd did not greet within {timeout}s ({last}):\n{self.log_tail()}")

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM by PID, then SIGKILL after `timeout`. Returns the exit status."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            return None  # did not stop in time

    def kill9(self) -> None:
        """SIGKILL by PID: the crash the durability tests simulate."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def cleanup(self) -> None:
        self.stop()
        if os.environ.get("RELAYIT_KEEP"):
            print(f"kept relay workdir {self.workdir}")
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)

    # -- inspection --------------------------------------------------------------------------
    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, n: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-n:])

    def outbox_files(self) -> list[Path]:
        return outbox_files(self.outbox)

    # -- log lines (logfmt) ----------------------------------------------------------------------
    def log_records(self) -> list[dict]:
        """Every logfmt line of the log as a dict (keys as logged, e.g. msg, id, status); each also
        carries "start": which start of this relay wrote it (1 for the first)."""
        records: list[dict] = []
        start = 0
        for line in self.log_text().splitlines():
            m = _START_MARK.match(line)
            if m:
                start = int(m.group(1))
                continue
            rec = parse_logfmt(line)
            if rec:
                rec["start"] = start
                records.append(rec)
        return records

    def wait_for_log(self, predicate, timeout: float = 30.0, what: str = "a matching log line") -> dict:
        """The first log record for which predicate(record) is true, waiting up to `timeout` s."""
        deadline = time.monotonic() + timeout
        while True:
            for rec in self.log_records():
                if predicate(rec):
                    return rec
            if time.monotonic() > deadline:
                raise AssertionError(f"relayd logged no {what} within {timeout}s; log tail:\n{self.log_tail()}")
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"relayd exited ({self.proc.returncode}) while waiting for {what}:\n"
                                     f"{self.log_tail()}")
            time.sleep(0.05)

    # -- spool -----------------------------------------------------------------------------------
    def queued_ids(self) -> set[str]:
        """Queue ids of the messages in the spool's queue (queue/<id>.msg)."""
        try:
            return {p.name[:-4] for p in (self.spool / "queue").iterdir() if p.name.endswith(".msg")}
        except FileNotFoundError:
            return set()

    def failed_entries(self) -> list[Path]:
        """Whatever relayd put into <spool>/failed/ (permanently failed messages)."""
        try:
            return sorted((self.spool / "failed").iterdir())
        except FileNotFoundError:
            return []

    def wait_for_outbox(self, n: int, timeout: float = 30.0, settle: float = 0.5) -> list[Path]:
        try:
            return wait_for_outbox(self.outbox, n, timeout=timeout, settle=settle)
        except AssertionError as e:
            raise AssertionError(f"{e}\nrelayd log tail:\n{self.log_tail()}") from None


_START_MARK = re.compile(r"^--- start #(\d+) ---$")
_LOGFMT_PAIR = re.compile(r'([A-Za-z_][\w.\-]*)=("(?:[^"\\]|\\.)*"|[^\s"]*)')
_LOGFMT_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


def parse_logfmt(line: str) -> dict:
    """key=value pairs of one logfmt line (quoted values unescaped); {} if it is not logfmt."""
    out: dict = {}
    for key, value in _LOGFMT_PAIR.findall(line):
        if value.startswith('"'):
            value = re.sub(r"\\(.)", lambda m: _LOGFMT_ESCAPES.get(m.group(1), m.group(1)), value[1:-1])
        out[key] = value
    return out if "msg" in out or "level" in out else {}


def outbox_files(outbox: Path) -> list[Path]:
    try:
        return sorted(p for p in outbox.iterdir() if p.name.endswith(".eml"))
    except FileNotFoundError:
        return []


def wait_for_outbox(outbox: Path, n: int, timeout: float = 30.0, settle: float = 0.5) -> list[Path]:
    """Wait until `outbox` holds exactly `n` .eml files, then `settle` seconds more to be sure no
    extra file appears. Fails if more than `n` appear or `n` are not there in time."""
    deadline = time.monotonic() + timeout
    files = outbox_files(outbox)
    while len(files) < n and time.monotonic() < deadline:
        time.sleep(0.05)
        files = outbox_files(outbox)
    if len(files) < n:
        raise AssertionError(f"outbox has {len(files)} .eml files after {timeout}s, expected {n}")
    if settle:
        time.sleep(settle)
        files = outbox_files(outbox)
    if len(files) != n:
        raise AssertionError(f"outbox has {len(files)} .eml files, expected exactly {n}")
    return files


def split_received(data: bytes) -> tuple[list[bytes], bytes]:
    """Split an outbox file into its leading Received: header fields and the rest (the message
    exactly as the client sent it, after dot-unstuffing)."""
    received: list[bytes] = []
    rest = data
    while rest[:9].lower() == b"received:":
        end = rest.find(b"\r\n")
        while end != -1 and rest[end + 2: end + 3] in (b" ", b"\t"):
            end = rest.find(b"\r\n", end + 2)
        if end == -1:
            raise AssertionError(f"unterminated Received: header in {data[:300]!r}")
        received.append(rest[: end + 2])
        rest = rest[end + 2:]
    return received, rest


def read_outbox_message(path: Path) -> tuple[list[bytes], bytes]:
    """(Received: header fields, message) of one outbox file, checking what every file must be."""
    data = path.read_bytes()
    received, rest = split_received(data)
    assert received, f"{path.name} does not start with a Received: header: {data[:200]!r}"
    assert QUEUE_ID.match(path.stem), f"outbox file name {path.name!r} is not <QUEUEID>.eml"
    return received, rest
