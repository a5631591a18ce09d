"""A private Postfix instance (own config, queue and data directories) relaying to smtp-sink.

Nothing here touches /etc/postfix or the system queue: every `postfix` command gets `-c DIR`.
Postfix keeps its default durability: cleanup fsyncs the queue file before smtpd answers 250.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import bench_proc as bp

# The queue directories a message can sit in before it is delivered (deferred/defer are hashed).
QUEUE_DIRS = ("maildrop", "incoming", "active", "deferred", "hold")

MASTER_CF = """\
# service     type  private unpriv  chroot  wakeup  maxproc command
{listen} inet  n       -       n       -       -       smtpd
pickup        unix  n       -       n       60      1       pickup
cleanup       unix  n       -       n       -       0       cleanup
qmgr          unix  n       -       n       300     1       qmgr
rewrite       unix  -       -       n       -       -       trivial-rewrite
bounce        unix  -       -       n       -       0       bounce
defer         unix  -       -       n       -       0       bounce
trace         unix  -       -       n       -       0       bounce
verify        unix  -       -       n       -       1       verify
flush         unix  n       -       n       1000?   0       flush
proxymap      unix  -       -       n       -       -       proxymap
smtp          unix  -       -       n       -       -       smtp
relay         unix  -       -       n       -       -       smtp
showq         unix  n       -       n       -       -       showq
error         unix  -       -       n       -       -       error
retry         unix  -       -       n       -       -       error
discard       unix  -       -       n       -       -       discard
anvil         unix  -       -       n       -       1       anvil
scache        unix  -       -       n       -       1       scache
postlog       unix-dgram n  -       n       -       1       postlogd
"""


def main_cf(d: Path, sink_port: int, extra: dict[str, str]) -> str:
    settings = {
        "compatibility_level": "3.6",
        "config_directory": str(d / "etc"),
        "queue_directory": str(d / "queue"),
        "data_directory": str(d / "data"),
        "mail_owner": "postfix",
        "setgid_group": "postdrop",
        # A pure relay: nothing is local, everything goes to the relayhost (smtp-sink).
        "myhostname": "bench.test",
        "mydomain": "bench.test",
        "myorigin": "bench.test",
        "mydestination": "",
        "local_recipient_maps": "",
        "local_transport": "error:local delivery is disabled",
        "alias_maps": "",
        "alias_database": "",
        "biff": "no",
        "relayhost": f"[127.0.0.1]:{sink_port}",
        "mynetworks": "127.0.0.0/8",
        "smtpd_relay_restrictions": "permit_mynetworks, reject_unauth_destination",
        # Loopback only, and no DNS: the relayhost is a bracketed literal, client names are not looked up.
        "inet_interfaces": "127.0.0.1",
        "inet_protocols": "ipv4",
        "smtp_host_lookup": "native",
        "smtpd_peername_lookup": "no",
        "smtpd_banner": "$myhostname ESMTP",
        # Log to a file of this instance (what a container setup does with /dev/stdout).
        "maillog_file": str(d / "maillog"),
        "maillog_file_prefixes": str(d),
    }
    settings.update(extra)
    return "".join(f"{k} = {v}\n" for k, v in settings.items())


class SmtpSink:
    """Postfix's smtp-sink, counting what it receives (-c), as the upstream of the Postfix instance."""

    def __init__(self, workdir: Path, port: int | None = None):
        self.workdir = workdir
        self.port = port or bp.free_port()
        self.out_path = workdir / "smtp-sink.out"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        cmd = ["smtp-sink", "-c"]
        if os.geteuid() == 0:
            cmd += ["-u", "postfix"]  # smtp-sink refuses to run as root without -u
        cmd += ["-m", "1000", f"127.0.0.1:{self.port}", "1024"]
        with open(self.out_path, "wb") as out:
            self.proc = subprocess.Popen(cmd, cwd=self.workdir, stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT)
        if not bp.wait_until(lambda: self.proc.poll() is not None or _listening(self.port), 10, 0.05):
            raise RuntimeError("smtp-sink did not start listening")
        if self.proc.poll() is not None:
            raise RuntimeError(f"smtp-sink exited: {bp.tail(self.out_path)}")

    def count(self) -> int:
        """Messages received so far (the last `mesg=N` of its -c counter line)."""
        try:
            with open(self.out_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - 256))
                m = re.findall(rb"mesg=(\d+)", f.read())
        except FileNotFoundError:
            return 0
        return int(m[-1]) if m else 0

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def _listening(port: int) -> bool:
    import socket
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class PostfixInstance:
    """One private Postfix instance under `workdir`, relaying everything to its own smtp-sink (or `sink`)."""

    name = "Postfix"

    def __init__(self, workdir: Path, extra_settings: dict[str, str] | None = None, sink=None):
        self.workdir = workdir
        self.port = bp.free_port()
        self.sink = sink or SmtpSink(workdir)  # the relayhost: smtp-sink, or a bench_timestamp_sink.TimestampSink
        self.etc = workdir / "etc"
        self.queue = workdir / "queue"
        self.data = workdir / "data"
        self.maillog = workdir / "maillog"
        self.extra = dict(extra_settings or {})
        self.started = False

    # -- lifecycle ------------------------------------------------------------------------
    def _postfix(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        p = subprocess.run(["postfix", "-c", str(self.etc), *args], capture_output=True, text=True, timeout=120)
        if check and p.returncode != 0:
            raise RuntimeError(f"postfix {' '.join(args)} failed ({p.returncode}): {p.stdout}{p.stderr}\n"
                               f"maillog:\n{bp.tail(self.maillog)}")
        return p

    def start(self) -> None:
        for d in (self.etc, self.queue, self.data):
            d.mkdir(parents=True, exist_ok=True)
        os.chmod(self.workdir, 0o755)  # postfix daemons (uid postfix) must traverse it
        pw = pwd.getpwnam("postfix")
        os.chown(self.data, pw.pw_uid, pw.pw_gid)
        self.sink.start()
        (self.etc / "main.cf").write_text(main_cf(self.workdir, self.sink.port, self.extra))
        (self.etc / "master.cf").write_text(MASTER_CF.format(listen=f"127.0.0.1:{self.port}".ljust(13)))
        self._postfix("check")  # creates the queue directories with the right owners
        self._postfix("start")
        self.started = True
        self.wait_ready()

    def wait_ready(self, timeout: float = 30) -> None:
        last = ""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ok, last = bp.smtp_greets("127.0.0.1", self.port)
            if ok:
                return
            time.sleep(0.1)
        raise RuntimeError(f"Postfix did not greet on port {self.port}: {last}\n{bp.tail(self.maillog)}")

    def stop(self) -> None:
        if self.started:
            p = self._postfix("stop", check=False)
            self.started = False
            if p.returncode != 0:  # fall back to signalling the master we started, by PID
                pid = self.master_pid()
                if pid:
                    try:
                        os.kill(pid, signal.SIGTERM)
                    except ProcessLookupError:
                        pass
        self.sink.stop()

    # -- readings -------------------------------------------------------------------------
    def master_pid(self) -> int | None:
        try:
            return int((self.queue / "pid" / "master.pid").read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def pids(self) -> list[int]:
        pid = self.master_pid()
        return [pid, *bp.children(pid)] if pid else []

    def cpu_seconds(self) -> float:
        pid = self.master_pid()
        return bp.tree_cpu_seconds(pid) if pid else 0.0

    def memory(self) -> dict:
        """Whole instance (master and every daemon): PSS sum (fair share of shared pages) and RSS sum."""
        pids = self.pids()
        return {
            "processes": len(pids),
            "pss_kib": sum(bp.pss_kib(p) or 0 for p in pids),
            "rss_kib": sum(bp.status_kib(p) or 0 for p in pids),
        }

    def delivered(self) -> int:
        return self.sink.count()

    def pending(self) -> int:
        n = 0
        for q in QUEUE_DIRS:
            for _, _, files in os.walk(self.queue / q):
                n += len(files)
        return n

    def deferred(self) -> int:
        return sum(len(files) for _, _, files in os.walk(self.queue / "deferred"))

    def problems(self) -> str:
        """Warnings and errors from the instance's log (the first few)."""
        try:
            lines = self.maillog.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return ""
        bad = [l for l in lines if re.search(r"(warning|error|fatal|panic):", l)
               and "not owned by postfix" not in l]
        return "\n".join(bad[:10])

    def describe(self) -> str:
        return f"Postfix {postfix_version()} (private instance, smtpd on 127.0.0.1:{self.port})"


def postfix_version() -> str:
    try:
        return subprocess.run(["postconf", "-dh", "mail_version"], capture_output=True, text=True).stdout.strip()
    except FileNotFoundError:
        return "?"


def ensure_installed() -> None:
    """Install Debian's postfix package (which carries smtp-source/smtp-sink) if it is missing."""
    if all(shutil.which(t) for t in ("postfix", "smtp-source", "smtp-sink")):
        return
    if os.geteuid() != 0:
        raise SystemExit("postfix/smtp-source are missing; run as root (or apt-get install postfix)")
    print("installing postfix (apt, 'No configuration') ...", file=sys.stderr, flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["debconf-set-selections"], input="postfix postfix/main_mailer_type select No configuration\n",
                   text=True, check=True)
    if subprocess.run(["apt-get", "install", "-y", "postfix"], env=env).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, check=True)
        subprocess.run(["apt-get", "install", "-y", "postfix"], env=env, check=True)
