"""Postfix's side of scripts/bench-relayctl: `mailq` and `postqueue -j` over an equally big deferred queue.

A private Postfix instance (bench_postfix) gets MESSAGES messages of 1 KiB through smtp-source, with
`defer_transports` naming its relay transports so that every message is deferred without a delivery attempt
(what a queue looks like while the upstream is down), then each listing command is timed ROUNDS times.

    python3 scripts/bench-lib/bench_postfix_queue.py WORKDIR MESSAGES ROUNDS

Prints markdown table rows (label | median total s | median first line s), like bench-relayctl's.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_load  # noqa: E402
import bench_postfix  # noqa: E402
import bench_proc as bp  # noqa: E402


def measure(cmd: list[str], rounds: int) -> tuple[float, float]:
    """Median seconds to the end of the output and to its first line, as bench-relayctl measures relayctl."""
    total, first = [], []
    for _ in range(rounds):
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        line = p.stdout.readline()
        t1 = time.monotonic()
        for _ in iter(lambda: p.stdout.read(1 << 16), b""):
            pass
        if p.wait() != 0 or not line:
            raise SystemExit(f"{cmd} failed")
        total.append(time.monotonic() - t0)
        first.append(t1 - t0)
    return statistics.median(total), statistics.median(first)


def main() -> None:
    workdir, messages, rounds = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    bench_postfix.ensure_installed()
    instance = bench_postfix.PostfixInstance(workdir, {"defer_transports": "relay, smtp"})
    try:
        instance.start()  # inside the try: a failed start must still stop the smtp-sink it started
        print(f"queueing {messages} messages in Postfix {bench_postfix.postfix_version()} ...", file=sys.stderr)
        run = bench_load.smtp_source(instance.port, messages, sessions=20, size=1024, timeout=3600)
        if run.returncode != 0:
            raise SystemExit(f"smtp-source failed: {run.output[-500:]}")
        if not bp.wait_until(lambda: instance.deferred() >= messages, 600, 1):
            raise SystemExit(f"only {instance.deferred()} of {messages} messages reached Postfix's deferred queue")
        etc = str(instance.etc)
        for label, cmd in (("`mailq` (postqueue -p)", ["postqueue", "-c", etc, "-p"]),
                           ("`postqueue -j`", ["postqueue", "-c", etc, "-j"])):
            total, first = measure(cmd, rounds)
            print(f"| Postfix {bench_postfix.postfix_version()}: {label} | {total:.3f} | {first:.3f} |")
        listed = subprocess.run(["postqueue", "-c", etc, "-j"], capture_output=True, text=True).stdout.count("\n")
        print(f"Postfix listed {listed} of {messages}", file=sys.stderr)
    finally:
        instance.stop()


if __name__ == "__main__":
    main()
