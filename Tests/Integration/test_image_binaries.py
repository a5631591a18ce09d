"""The binaries the Containerfile ships run with nothing but what its runtime stage has.

There is no container engine here, so the image itself is not built; this checks what it depends on.
scripts/test builds relayd and relayctl as the Containerfile does (`-c release --static-swift-stdlib -Xlinker
--strip-debug`, into .build-static) and passes their folder in $MAILRELAY_STATIC_BIN_DIR. The runtime stage is Debian
bookworm-slim plus libssl3 and ca-certificates: each binary may load only the C and C++ runtime and OpenSSL,
and must run from a bare folder, with an empty environment, while the Swift toolchain's folder is hidden
(a private mount namespace with an empty tmpfs over it).
"""

from __future__ import annotations

import os
import re
import shutil
import smtplib
import subprocess
import time
from pathlib import Path

import pytest

from relayd_harness import free_port

STATIC_DIR = os.environ.get("MAILRELAY_STATIC_BIN_DIR")
pytestmark = pytest.mark.skipif(
    not STATIC_DIR, reason="MAILRELAY_STATIC_BIN_DIR is not set (scripts/test builds the static binaries and sets it)")

# What bookworm-slim (libc6, libgcc-s1, libstdc++6) and libssl3 provide, by soname.
RUNTIME_LIBRARIES = {
    "linux-vdso.so.1", "ld-linux-x86-64.so.2", "libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2",
    "librt.so.1", "libutil.so.1", "libgcc_s.so.1", "libstdc++.so.6", "libssl.so.3", "libcrypto.so.3", "libz.so.1",
}


def binary(name: str) -> Path:
    path = Path(STATIC_DIR) / name
    assert path.is_file(), f"{path} is missing: build it with scripts/test (swift build -c release --static-swift-stdlib)"
    return path


def toolchain_root() -> Path:
    """The Swift toolchain's folder (/opt/swift here): swift is <root>/usr/bin/swift."""
    swift = shutil.which("swift")
    assert swift, "swift is not on PATH"
    return Path(swift).resolve().parents[2]


def without_toolchain(argv: list[str], cwd: Path) -> list[str]:
    """`argv` run with the toolchain's folder covered by an empty tmpfs and an empty environment."""
    hidden = toolchain_root()
    script = f'mount -t tmpfs tmpfs "{hidden}" && cd "{cwd}" && exec env -i ' + " ".join(f'"{a}"' for a in argv)
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script]


@pytest.mark.parametrize("name", ["relayd", "relayctl"])
def test_each_binary_loads_only_the_runtime_images_libraries(name):
    p = subprocess.run(["ldd", str(binary(name))], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    needed = {}
    for line in p.stdout.splitlines():
        m = re.match(r"\s*(\S+)(?:\s+=>\s+(\S+))?", line)
        if m:
            needed[Path(m.group(1)).name] = m.group(2) or m.group(1)
    assert "libc.so.6" in needed, p.stdout
    assert set(needed) <= RUNTIME_LIBRARIES, f"{name} needs more than the runtime image has: {sorted(set(needed) - RUNTIME_LIBRARIES)}"
    assert not [path for path in needed.values() if "swift" in path.lower()], f"{name} loads from the toolchain: {needed}"


def containerfile_build_flags() -> str:
    text = (Path(__file__).resolve().parents[2] / "Containerfile").read_text()
    m = re.search(r'flags="([^"]*)"', text)
    assert m, "the Containerfile's build stage sets flags=\"…\" for swift build"
    return m.group(1)


@pytest.mark.parametrize("name", ["relayd", "relayctl"])
def test_binaries_carry_symbols_for_backtraces_but_no_debug_info(name):
    """The image strips DWARF to save space and keeps the symbol table, so a crash backtrace in `kubectl
    logs` still names functions; and scripts/test builds what the Containerfile builds."""
    assert containerfile_build_flags().split() == ["-c", "release", "--static-swift-stdlib", "-Xlinker", "--strip-debug"]
    p = subprocess.run(["readelf", "-S", "--wide", str(binary(name))], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    sections = set(re.findall(r"\]\s+(\.\S+)", p.stdout))
    assert ".symtab" in sections, f"{name} has no symbol table: backtraces would show bare addresses"
    assert not {s for s in sections if s.startswith(".debug_")}, f"{name} still carries DWARF: {sorted(sections)}"
    symbols = subprocess.run(["nm", "--defined-only", str(binary(name))], capture_output=True, text=True, timeout=60)
    assert "RelayConfiguration" in symbols.stdout, "the symbol table names MailRelay's own functions"


@pytest.mark.skipif(os.geteuid() != 0, reason="hiding the toolchain needs a mount namespace (root)")
def test_relayd_and_relayctl_work_from_a_bare_folder_without_the_toolchain(tmp_path):
    bare = tmp_path / "bare"
    (bare / "bin").mkdir(parents=True)
    for name in ("relayd", "relayctl"):
        shutil.copy2(binary(name), bare / "bin" / name)
    port = free_port()
    config = bare / "relay.yaml"
    config.write_text(
        "hostname: image.test\n"
        "log: { format: logfmt, level: info }\n"
        f'listen: {{ smtp: ["127.0.0.1:{port}"], admin: "", control: "{bare}/relay.sock" }}\n'
        f'spool: {{ path: "{bare}/spool" }}\n'
        f'outbox: {{ path: "{bare}/outbox" }}\n')

    check = subprocess.run(without_toolchain([f"{bare}/bin/relayctl", "check-config", "--config", str(config)], bare),
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "image.test" in check.stdout

    log = open(tmp_path / "relayd.log", "wb")
    relayd = subprocess.Popen(without_toolchain([f"{bare}/bin/relayd", "--config", str(config)], bare),
                              stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not (bare / "relay.sock").exists():
            assert relayd.poll() is None, (tmp_path / "relayd.log").read_text()
            assert time.monotonic() < deadline, "relayd did not start"
            time.sleep(0.1)
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
            client.sendmail("a@example.com", ["b@example.org"], b"Subject: from the image\r\n\r\nhello\r\n")
        while not list((bare / "outbox").glob("*.eml")):
            assert time.monotonic() < deadline, "the message was not delivered to the outbox"
            time.sleep(0.1)
        listing = subprocess.run(without_toolchain([f"{bare}/bin/relayctl", "--help"], bare),
                                 capture_output=True, text=True, timeout=60)
        assert listing.returncode == 0 and "queue" in listing.stdout, listing.stdout + listing.stderr
    finally:
        relayd.terminate()  # the exec chain keeps unshare's PID: this is relayd
        relayd.wait(30)
        log.close()
    assert relayd.returncode == 0, (tmp_path / "relayd.log").read_text()
    [message] = list((bare / "outbox").glob("*.eml"))
    assert message.read_bytes().endswith(b"Subject: from the image\r\n\r\nhello\r\n")
