"""Load for the durability tests and scripts/crash-loop: threads that submit uniquely identified messages to
relayd and keep going across its restarts, recording which ones it acknowledged."""

from __future__ import annotations

import threading
import time

from smtp_wire import SMTPWire


class Sender(threading.Thread):
    """Submits its share of messages, each with a unique Message-ID, over connections of up to 50
    messages; when relayd is down it waits and carries on after the restart. Records every message
    sent and which got 250."""

    def __init__(self, relay, tag: str, count: int, stop: threading.Event):
        super().__init__(daemon=True)
        self.relay, self.tag, self.count, self.stop = relay, tag, count, stop
        self.sent: dict[str, bytes] = {}  # Message-ID -> message
        self.acked: set[str] = set()
        self.errors: list[str] = []

    def message(self, mid: str, i: int) -> bytes:
        return (
            f"From: <{self.tag}@example.com>\r\nTo: <sink@example.com>\r\nSubject: upstream crash {i}\r\n"
            f"Message-ID: {mid}\r\n\r\n" + "".join(f"{self.tag} {i} line {n} {'z' * 60}\r\n" for n in range(i % 40 + 1))
        ).encode()

    def run(self) -> None:
        i = 0
        while i < self.count and not self.stop.is_set():
            try:
                c = SMTPWire(self.relay.host, self.relay.port, timeout=10)
            except OSError:
                time.sleep(0.05)  # relayd is down: wait for the restart
                continue
            try:
                c.start(self.tag)
                for _ in range(50):
                    if i >= self.count or self.stop.is_set():
                        break
                    mid = f"<{self.tag}-{i}@crash.test>"
                    data = self.message(mid, i)
                    self.sent[mid] = data
                    i += 1
                    r = c.send_message(f"{self.tag}@example.com", ["sink@example.com"], data)
                    if r.code == 250:
                        self.acked.add(mid)
                    else:
                        self.errors.append(f"{mid}: {r}")
                c.cmd("QUIT")
            except Exception:
                pass  # the kill cut this session; an unacknowledged message may or may not arrive
            finally:
                c.close()
