"""Process and /proc helpers shared by the benchmark: ports, fd limits, CPU and memory readings.

Everything here is read-only with respect to other processes; the only processes the benchmark
ever signals are the ones it started itself (by PID).
"""

from __future__ import annotations

import os
import resource
import socket
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free on `host` a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def raise_fd_limit(wanted: int) -> int:
    """Raise RLIMIT_NOFILE (soft, and hard if we are root) to at least `wanted`; children inherit it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, wanted))
            return wanted
        except (ValueError, PermissionError):
            wanted = hard
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return soft
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return wanted


def _stat_fields(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # comm may contain spaces and parentheses: split after the last ')'. fields[0] is field 3 (state).
    return data[data.rindex(")") + 2:].split()


def cpu_seconds(pid: int, include_reaped_children: bool = False) -> float:
    """utime+stime of `pid` (all threads), plus cutime+cstime (children it has reaped) if asked."""
    f = _stat_fields(pid)
    if f is None:
        return 0.0
    ticks = int(f[11]) + int(f[12])
    if include_reaped_children:
        ticks += int(f[13]) + int(f[14])
    return ticks / CLK_TCK


def children(pid: int) -> list[int]:
    """Live direct children of `pid`."""
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            f = _stat_fields(int(name))
            if f is not None and int(f[1]) == pid:
                out.append(int(name))
    return out


def tree_cpu_seconds(pid: int) -> float:
    """CPU of a process family: the parent, its reaped children, and its live children.

    The difference of two readings is exact for the window between them: a child that exits in
    between moves its whole total into the parent's cutime, replacing its earlier partial reading.
    """
    return cpu_seconds(pid, include_reaped_children=True) + sum(cpu_seconds(c) for c in children(pid))


def status_kib(pid: int, key: str = "VmRSS") -> int | None:
    """A `kB` field of /proc/PID/status (VmRSS, VmHWM, ...)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def pss_kib(pid: int) -> int | None:
    """Proportional set size: shared pages divided among the processes sharing them."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return None


def thread_count(pid: int) -> int | None:
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except FileNotFoundError:
        return None


def fd_count(pid: int) -> int | None:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except FileNotFoundError:
        return None


def wait_until(predicate, timeout: float, interval: float = 0.25) -> bool:
    """Poll `predicate()` until it is true or `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def smtp_greets(host: str, port: int, timeout: float = 2.0) -> tuple[bool, str]:
    """Connect, read the greeting, QUIT. Returns (got 220, what happened)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.settimeout(timeout)
            data = b""
            while b"\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            if not data.startswith(b"220"):
                return False, f"unexpected greeting {data[:200]!r}"
            s.sendall(b"QUIT\r\n")
            try:
                while s.recv(4096):
                    pass
            except OSError:
                pass
            return True, data.split(b"\r\n")[0].decode(errors="replace")
    except OSError as e:
        return False, repr(e)


def tail(path, n: int = 30) -> str:
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except FileNotFoundError:
        return f"({path} does not exist)"


WRITER = r"""
import os, sys, time
rate, path = float(sys.argv[1]), sys.argv[2]
chunk = b"n" * (1 << 20)
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
n, t0 = 0, time.monotonic()
while True:
    os.write(fd, chunk)  # page cache only: no fsync, like a neighbour writing logs or build output
    n += 1
    if n % 1024 == 0:
        os.lseek(fd, 0, os.SEEK_SET)  # stay within 1 GiB on disk
    delay = t0 + n / rate - time.monotonic()
    if delay > 0:
        time.sleep(delay)
"""


class DirtyWriter:
    """A neighbour process writing `mbps` MiB/s into the page cache of the file system holding `path`,
    never syncing: the kernel's writeback and anyone's syncfs(2) have to flush it."""

    name = "neighbour writer"

    def __init__(self, mbps: float, path):
        self.mbps, self.path, self.proc = mbps, path, None

    def start(self) -> None:
        import subprocess
        import sys
        self.proc = subprocess.Popen([sys.executable, "-c", WRITER, str(self.mbps), str(self.path)],
                                     stdin=subprocess.DEVNULL)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
