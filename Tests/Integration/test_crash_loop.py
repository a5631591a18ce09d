"""scripts/crash-loop in its CI size: three SIGKILLs at random moments while eight clients submit 800 messages
and relayd relays them to a slow upstream; nothing acknowledged may be lost, duplicates stay within what was in
flight at the kills, and the queue drains. The long mode (20 kills) is run on demand: docs/testing.md."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "crash-loop"


def test_crash_loop_loses_nothing():
    p = subprocess.run([sys.executable, str(SCRIPT), "--kills", "3", "--messages", "800"],
                       capture_output=True, text=True, timeout=600)
    print(p.stdout)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    summary = p.stdout.strip().splitlines()[-1]
    assert " lost=0 " in summary and " still_queued=0 " in summary, summary
