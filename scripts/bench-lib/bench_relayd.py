"""Build relayd in release mode and run one instance of it with its own spool and outbox."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import bench_proc as bp


def build(repo: Path, log_path: Path) -> Path:
    """`swift build -c release --product relayd` (only what the benchmark runs, so a broken test-support
    target does not stop it); returns the relayd binary. Output goes to `log_path`."""
    cmd = ["swift", "build", "-c", "release", "--product", "relayd"]
    print(f"building relayd ({' '.join(cmd)}, log: {log_path}) ...", file=sys.stderr, flush=True)
    t0 = time.monotonic()
    with open(log_path, "wb") as log:
        rc = subprocess.run(cmd, cwd=repo, stdout=log, stderr=subprocess.STDOUT).returncode
    if rc != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({rc}):\n{bp.tail(log_path, 40)}")
    print(f"  built in {time.monotonic() - t0:.0f} s", file=sys.stderr, flush=True)
    return binary(repo)


def binary(repo: Path) -> Path:
    env = os.environ.get("RELAYD_BIN")
    if env:
        return Path(env).resolve()
    out = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=repo, capture_output=True,
                         text=True, check=True).stdout.strip().splitlines()[-1]
    return Path(out) / "relayd"


def _scalar(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    return json.dumps(str(v))  # a JSON string is a valid YAML double-quoted scalar


def to_yaml(value: dict, indent: int = 0) -> str:
    pad = "  " * indent
    out = []
    for key, v in value.items():
        if isinstance(v, dict):
            out.append(f"{pad}{key}:\n{to_yaml(v, indent + 1)}")
        elif isinstance(v, list):
            out.append(f"{pad}{key}: [{', '.join(_scalar(i) for i in v)}]\n")
        else:
            out.append(f"{pad}{key}: {_scalar(v)}\n")
    return "".join(out)


class RelaydInstance:
    """relayd with a fresh spool/outbox under `workdir`. Delivers to the outbox, or to an smtp-sink."""

    name = "relayd"

    def __init__(self, binary: Path, workdir: Path, *, max_connections: int | None = None, sink=None):
        self.binary = binary
        self.workdir = workdir
        self.port = bp.free_port()
        self.spool = workdir / "spool"
        self.outbox = workdir / "outbox"
        self.config_path = workdir / "relayd.yaml"
        self.log_path = workdir / "relayd.log"
        self.sink = sink  # a bench_postfix.SmtpSink when relayd should deliver over SMTP instead
        self.config = {
            "hostname": "bench.test",
            "log": {"format": "logfmt", "level": "warning"},
            "listen": {"smtp": [f"127.0.0.1:{self.port}"], "admin": "", "control": str(workdir / "relay.sock")},
            "spool": {"path": str(self.spool)},
            "outbox": {"path": str(self.outbox)},
            "inbound": {"allowed_networks": ["127.0.0.0/8"]},
        }
        if max_connections:
            self.config["inbound"]["max_connections"] = max_connections
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        if self.sink is not None:
            self.sink.start()
            self.config["upstream"] = {"host": "127.0.0.1", "port": self.sink.port, "tls": "none"}
        self.config_path.write_text(to_yaml(self.config))
        env = {k: v for k, v in os.environ.items() if not k.startswith("RELAY_")}
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen([str(self.binary), "--config", str(self.config_path)], cwd=self.workdir,
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env)
        self.wait_ready()

    def wait_ready(self, timeout: float = 30) -> None:
        last = ""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"relayd exited with {self.proc.returncode} before greeting:\n"
                                   f"{bp.tail(self.log_path)}")
            ok, last = bp.smtp_greets("127.0.0.1", self.port)
            if ok:
                return
            time.sleep(0.1)
        raise RuntimeError(f"relayd did not greet on port {self.port}: {last}\n{bp.tail(self.log_path)}")

    def stop(self, timeout: float = 30) -> int | None:
        """SIGTERM by PID; SIGKILL if it has not exited after `timeout` seconds."""
        rc = None
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                print(f"  warning: relayd (pid {self.proc.pid}) ignored SIGTERM for {timeout}s; killing it",
                      file=sys.stderr)
                self.proc.kill()
                self.proc.wait(10)
        elif self.proc is not None:
            rc = self.proc.returncode
        if self.sink is not None:
            self.sink.stop()
        return rc

    # -- readings -------------------------------------------------------------------------
    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def cpu_seconds(self) -> float:
        return bp.cpu_seconds(self.pid)

    def memory(self) -> dict:
        return {"processes": 1, "rss_kib": bp.status_kib(self.pid, "VmRSS"), "pss_kib": bp.pss_kib(self.pid),
                "threads": bp.thread_count(self.pid)}

    def delivered(self) -> int:
        if self.sink is not None:
            return self.sink.count()
        try:
            return sum(1 for e in os.scandir(self.outbox) if e.name.endswith(".eml"))
        except FileNotFoundError:
            return 0

    def pending(self) -> int | None:
        return None  # the spool layout is relayd's business; completion is judged by the outbox

    def problems(self) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return ""
        # The plaintext-upstream warning is expected: the benchmark configures `tls: none` on purpose.
        lines = [l for l in lines if "upstream.tls is none" not in l]
        return "\n".join(lines[:10])

    def describe(self) -> str:
        how = f"upstream 127.0.0.1:{self.sink.port}" if self.sink else "outbox"
        return f"relayd {self.binary} (delivering to {how}, smtp on 127.0.0.1:{self.port})"
