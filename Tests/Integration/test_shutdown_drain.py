"""`shutdown.drain`: on SIGTERM relayd keeps delivering its queue for up to that long before it exits, for
installs whose spool does not outlive the pod; without it, deferred mail stays queued for the next start.

A message is deferred by the upstream (451 once) with an hour until its retry; relayd is then told to stop.
"""

from __future__ import annotations

import time

from smtp_wire import SMTPWire, message

HOUR_RETRY = {"first": "1h", "max": "1h", "multiplier": 1, "jitter": 0}


def deferred_message(relay, up) -> str:
    """Queues one message that the upstream defers once; returns its id after that first attempt."""
    up.faults.mail.append("451 4.3.0 try again later")
    with SMTPWire(relay.host, relay.port) as c:
        c.start()
        reply = c.send_message("sender@example.com", ["rcpt@example.com"], message("drain me", "hello"))
        assert reply.code == 250 and reply.queue_id, reply
        c.cmd("QUIT")
    relay.wait_for_log(lambda r: r.get("msg") == "delivery" and r.get("id") == reply.queue_id
                       and r.get("status") == "deferred", 30, "the first attempt deferred")
    return reply.queue_id


def test_a_drain_delivers_the_deferred_queue_before_exiting(relay_factory, upstream_factory):
    up = upstream_factory(tls="none")
    relay = relay_factory({**up.relay_config(retry=HOUR_RETRY), "shutdown": {"drain": "30s"}})
    qid = deferred_message(relay, up)
    started = time.monotonic()
    assert relay.stop(timeout=60) == 0
    assert time.monotonic() - started < 25, "relayd exits as soon as the queue is empty"
    [got] = up.wait_for_messages(1, timeout=5)
    assert got.rcpts == ["rcpt@example.com"]
    assert qid not in relay.queued_ids()
    assert "queue drained" in relay.log_text()


def test_without_a_drain_the_deferred_message_stays_queued(relay_factory, upstream_factory):
    up = upstream_factory(tls="none")
    relay = relay_factory(up.relay_config(retry=HOUR_RETRY))
    qid = deferred_message(relay, up)
    assert relay.stop(timeout=30) == 0
    assert up.snapshot() == []
    assert qid in relay.queued_ids(), "kept for the next start"
