#!/usr/bin/env python3
"""Write a big relayd spool directly in its on-disk format (docs/ARCHITECTURE.md, MessageFileFormat), for
benchmarking `relayctl queue`: N messages of SIZE bytes in queue/, every one deferred (a .state file with
three attempts of history and its next attempt an hour away, so a relayd started on the spool leaves them
alone), arrival times spread over the last two days.

    make_spool.py SPOOL_ROOT N [--size BYTES]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def queue_id(milliseconds: int, sequence: int) -> str:
    out = []
    for _ in range(10):
        out.append(ALPHABET[milliseconds & 31])
        milliseconds >>= 5
    head = "".join(reversed(out))
    tail = "".join(ALPHABET[(sequence >> shift) & 31] for shift in (10, 5, 0))
    return head + tail


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("root")
    p.add_argument("count", type=int)
    p.add_argument("--size", type=int, default=1024)
    a = p.parse_args()

    for sub in ("incoming", "queue", "corrupt", "recycle", "failed"):
        os.makedirs(os.path.join(a.root, sub), mode=0o700, exist_ok=True)
    rng = random.Random(7)
    now = time.time()
    filler = b"0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz\r\n"
    start = int((now - 2 * 86400) * 1000)
    step = max(1, (2 * 86400 * 1000) // max(a.count, 1))
    for i in range(a.count):
        ms = start + i * step
        qid = queue_id(ms, i % 32768)
        sender = f"notifications{i % 7}@mast.town"
        rcpt = f"user{i}@example{i % 13}.org"
        head = (f"Received: from sidekiq-{i % 5} ([10.0.3.{i % 250}])\r\n\tby relay.test; bench\r\n"
                f"From: <{sender}>\r\nTo: <{rcpt}>\r\nSubject: Notification {i}\r\n"
                f"Message-ID: <{qid}@mast.town>\r\n\r\n").encode()
        body = head
        while len(body) < a.size:
            body += filler[: a.size - len(body)]
        envelope = {
            "clientAddress": f"10.0.3.{i % 250}", "clientName": f"sidekiq-{i % 5}", "eightBitMIME": False,
            "id": qid, "receivedAt": ms / 1000, "recipients": [rcpt], "sender": sender, "smtputf8": False,
        }
        line = json.dumps(envelope, separators=(",", ":"), sort_keys=True).encode()
        data = b"MRQ1 %012d\n" % len(body) + line + b"\n" + body
        with open(os.path.join(a.root, "queue", qid + ".msg"), "wb") as f:
            f.write(data)
        reply = rng.choice(["421 4.7.0 Try again later", "451 4.3.0 Mailbox busy",
                            "connect to smtp.example:587: Connection refused"])
        recipient = {"address": rcpt, "status": "deferred", "reply": reply, "at": now - 600}
        state = {
            "attempts": 3, "nextAttemptAt": now + 3600, "held": False, "recipients": [recipient],
            "history": [{"at": now - 600 * k, "relay": "smtp.example[192.0.2.1]:587", "recipients": [recipient]}
                        for k in (3, 2, 1)],
        }
        with open(os.path.join(a.root, "queue", qid + ".state"), "w") as f:
            json.dump(state, f, separators=(",", ":"))


if __name__ == "__main__":
    main()
