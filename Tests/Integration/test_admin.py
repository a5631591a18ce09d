"""The admin endpoint, black-box: /livez, /readyz and /metrics of a real relayd over loopback HTTP, the
metrics moving as mail is received and delivered, deferred, bounced or refused by the upstream's AUTH, and
/readyz failing as soon as a graceful shutdown starts (docs/observability.md).

The Prometheus text is parsed here by hand (a small subset of the exposition format: no escapes in label
values, which relayd's labels never need), so the tests need nothing beyond the standard library.
"""

from __future__ import annotations

import http.client
import re
import signal
import socket
import time

import pytest

from relayd_harness import RelayStartError, free_port
from smtp_wire import SMTPWire, message

SLOW_RETRY = {"first": "1h", "max": "1h", "multiplier": 1, "jitter": 0}
USER, PASSWORD = "relay-user", "correct horse battery staple"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="([^"\\]*)"')


# -- helpers ---------------------------------------------------------------------------------------

def admin_relay(relay_factory, overrides: dict | None = None):
    """A relayd with listen.admin on a free loopback port; relay.admin_port is it."""
    port = free_port()
    relay = relay_factory({"listen": {"admin": f"127.0.0.1:{port}"}, **(overrides or {})})
    relay.admin_port = port
    return relay


def http_get(relay, path: str, method: str = "GET", timeout: float = 10.0) -> tuple[int, dict, str]:
    conn = http.client.HTTPConnection("127.0.0.1", relay.admin_port, timeout=timeout)
    try:
        conn.request(method, path)
        response = conn.getresponse()
        body = response.read().decode()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        conn.close()


def parse_metrics(text: str) -> dict[tuple[str, frozenset], float]:
    """Every sample as {(name, frozenset of label pairs): value}; asserts every line is well formed and every
    sample's family has a TYPE line before it."""
    samples: dict[tuple[str, frozenset], float] = {}
    typed: dict[str, str] = {}
    for line in text.splitlines():
        if not line:
            continue
        if line.startswith("#"):
            parts = line.split(" ", 3)
            assert parts[1] in ("HELP", "TYPE"), f"unknown comment line {line!r}"
            if parts[1] == "TYPE":
                assert parts[3] in ("counter", "gauge", "histogram", "summary", "untyped"), line
                typed[parts[2]] = parts[3]
            continue
        m = SAMPLE.match(line)
        assert m, f"not a Prometheus sample line: {line!r}"
        name, labels, value = m.group(1), m.group(2) or "", m.group(3)
        pairs = LABEL.findall(labels)
        assert ",".join(f'{k}="{v}"' for k, v in pairs) == labels, f"malformed labels in {line!r}"
        family = re.sub(r"_(bucket|sum|count)$", "", name)
        assert name in typed or family in typed, f"sample {name} without a TYPE line"
        samples[(name, frozenset(pairs))] = float(value)
    return samples


def metrics(relay) -> dict[tuple[str, frozenset], float]:
    status, headers, body = http_get(relay, "/metrics")
    assert status == 200, (status, body)
    assert headers["content-type"] == CONTENT_TYPE
    return parse_metrics(body)


def value(samples, name: str, **labels) -> float:
    """A sample's value; 0 when it is not exported (yet)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def wait_metric(relay, name: str, at_least: float, timeout: float = 30.0, **labels) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        samples = metrics(relay)
        if value(samples, name, **labels) >= at_least:
            return samples
        if time.monotonic() > deadline:
            found = {k: v for k, v in samples.items() if k[0].startswith(name.rsplit("_", 1)[0])}
            raise AssertionError(f"{name}{labels} did not reach {at_least} within {timeout}s: {found}\n{relay.log_tail()}")
        time.sleep(0.1)


def submit(relay, subject: str, rcpts: tuple[str, ...] = ("bob@example.net",)) -> str:
    with SMTPWire(relay.host, relay.port) as c:
        c.start()
        r = c.send_message("alice@example.org", list(rcpts), message(subject, "hello\r\n", to=rcpts[0]))
        assert r.code == 250 and r.queue_id, r
        c.cmd("QUIT")
        return r.queue_id


# -- health ----------------------------------------------------------------------------------------

def test_livez_and_readyz_answer_200_and_unknown_paths_404(relay_factory):
    relay = admin_relay(relay_factory)
    assert http_get(relay, "/livez")[::2] == (200, "ok\n")
    status, headers, body = http_get(relay, "/readyz")
    assert (status, body) == (200, "ready\n")
    assert headers["connection"] == "close"
    assert http_get(relay, "/nope")[0] == 404
    assert http_get(relay, "/metrics", method="POST")[0] == 405
    assert http_get(relay, "/livez", method="HEAD")[::2] == (200, "")


def test_admin_is_off_with_an_empty_listen_admin(relay):
    """The harness's default config has listen.admin: "": relayd runs without an admin port."""
    assert "admin endpoint listening" not in relay.log_text()


def test_an_admin_address_in_use_stops_start_up(relay_factory):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        relay = relay_factory({"listen": {"admin": f"127.0.0.1:{port}"}}, start=False)
        with pytest.raises(RelayStartError):
            relay.start(timeout=15)
        assert relay.proc.wait(10) != 0
        assert f"listen.admin 127.0.0.1:{port}" in relay.log_text(), relay.log_tail()


def test_the_smtp_port_never_answers_http(relay_factory):
    relay = admin_relay(relay_factory)
    with SMTPWire(relay.host, relay.port) as c:
        assert c.greeting().code == 220
        r = c.cmd("GET /metrics HTTP/1.1")
        assert r.code >= 500 and not r.text.startswith("HTTP/"), r


# -- metrics ---------------------------------------------------------------------------------------

def test_metrics_parse_and_list_every_documented_family(relay_factory):
    relay = admin_relay(relay_factory)
    samples = metrics(relay)
    names = {name for name, _ in samples}
    for expected in ("mailrelay_inbound_sessions", "mailrelay_queue_messages", "mailrelay_queue_bytes",
                     "mailrelay_queue_oldest_age_seconds", "mailrelay_recipients_delivered_total",
                     "mailrelay_recipients_deferred_total", "mailrelay_recipients_bounced_total",
                     "mailrelay_messages_received_total"):
        assert expected in names, f"{expected} missing from /metrics: {sorted(names)}"
    for state in ("queued", "active", "deferred", "held", "failed"):
        assert value(samples, "mailrelay_queue_messages", state=state) == 0
    assert value(samples, "mailrelay_inbound_sessions") == 0


def test_a_relayed_message_counts_received_and_delivered(relay_factory, upstream_factory):
    up = upstream_factory()
    relay = admin_relay(relay_factory, up.relay_config())
    submit(relay, "counted")
    up.wait_for_messages(1, timeout=30)
    samples = wait_metric(relay, "mailrelay_recipients_delivered_total", 1)
    assert value(samples, "mailrelay_messages_received_total") == 1
    assert value(samples, "mailrelay_recipients_deferred_total") == 0
    assert value(samples, "mailrelay_delivery_attempt_duration_seconds_count") >= 1
    assert value(samples, "mailrelay_upstream_connection_failures_total", reason="auth") == 0


def test_a_451_counts_a_deferral_and_a_deferred_message(relay_factory, upstream_factory):
    up = upstream_factory()
    up.faults.rcpt.append("451 4.3.0 try again later")
    relay = admin_relay(relay_factory, up.relay_config(retry=SLOW_RETRY))
    submit(relay, "deferred")
    samples = wait_metric(relay, "mailrelay_recipients_deferred_total", 1)
    samples = wait_metric(relay, "mailrelay_queue_messages", 1, state="deferred")
    assert value(samples, "mailrelay_queue_messages", state="deferred") == 1
    assert value(samples, "mailrelay_queue_bytes", state="deferred") > 0
    assert value(samples, "mailrelay_queue_oldest_age_seconds") >= 0
    assert value(samples, "mailrelay_recipients_delivered_total") == 0


def test_a_550_counts_a_bounce(relay_factory, upstream_factory):
    up = upstream_factory()
    up.faults.rcpt_reply["bob@example.net"] = "550 5.1.1 no such user"
    relay = admin_relay(relay_factory, up.relay_config(retry=SLOW_RETRY))
    submit(relay, "bounced")
    wait_metric(relay, "mailrelay_recipients_bounced_total", 1)
    wait_metric(relay, "mailrelay_queue_messages", 1, state="failed")


def test_refused_credentials_count_an_auth_failure(relay_factory, upstream_factory):
    up = upstream_factory(tls="none", auth=(USER, PASSWORD))
    relay = admin_relay(relay_factory, up.relay_config(username=USER, password="wrong password", retry=SLOW_RETRY))
    submit(relay, "bad login")
    samples = wait_metric(relay, "mailrelay_upstream_connection_failures_total", 1, reason="auth")
    assert value(samples, "mailrelay_upstream_connection_failures_total", reason="connect") == 0
    wait_metric(relay, "mailrelay_recipients_deferred_total", 1)


def test_an_unreachable_upstream_counts_a_connect_failure(relay_factory, upstream_factory):
    up = upstream_factory(start=False)
    relay = admin_relay(relay_factory, up.relay_config(retry=SLOW_RETRY))
    submit(relay, "nobody there")
    wait_metric(relay, "mailrelay_upstream_connection_failures_total", 1, reason="connect")


def test_refusals_count_by_reason(relay_factory):
    relay = admin_relay(relay_factory, {"inbound": {"allowed_networks": ["127.0.0.1/32"], "max_recipients": 1}})
    with SMTPWire(relay.host, relay.port, source="127.0.0.2") as outsider:
        outsider.start()
        assert outsider.cmd("MAIL FROM:<a@example.org>").code == 250
        assert outsider.cmd("RCPT TO:<b@example.net>").code == 554
    with SMTPWire(relay.host, relay.port) as c:
        c.start()
        assert c.cmd("MAIL FROM:<a@example.org>").code == 250
        assert c.cmd("RCPT TO:<b@example.net>").code == 250
        assert c.cmd("RCPT TO:<c@example.net>").code == 452
        assert c.cmd("NOSUCHVERB").code == 500
    samples = metrics(relay)
    assert value(samples, "mailrelay_messages_rejected_total", reason="relay_denied") == 1
    assert value(samples, "mailrelay_messages_rejected_total", reason="too_many_recipients") == 1
    assert value(samples, "mailrelay_messages_rejected_total", reason="bare_line_end") == 0


def test_inbound_sessions_gauge_counts_open_smtp_sessions(relay_factory):
    relay = admin_relay(relay_factory)
    with SMTPWire(relay.host, relay.port) as a, SMTPWire(relay.host, relay.port) as b:
        a.start()
        b.start()
        assert value(metrics(relay), "mailrelay_inbound_sessions") == 2


# -- shutdown --------------------------------------------------------------------------------------

def test_readyz_fails_during_graceful_shutdown_before_the_process_exits(relay_factory):
    """A session in the middle of DATA holds the SMTP listener's shutdown (it may finish its message);
    meanwhile /readyz says 503 and /livez still 200. The message then completes with 250 and relayd exits."""
    relay = admin_relay(relay_factory)
    assert http_get(relay, "/readyz")[0] == 200
    with SMTPWire(relay.host, relay.port) as c:
        c.start()
        assert c.cmd("MAIL FROM:<alice@example.org>").code == 250
        assert c.cmd("RCPT TO:<bob@example.net>").code == 250
        assert c.cmd("DATA").code == 354
        c.send(b"Subject: in flight\r\n\r\nstarted before SIGTERM\r\n")
        relay.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 5
        while True:
            status, _, body = http_get(relay, "/readyz")
            if status == 503:
                break
            assert time.monotonic() < deadline, f"/readyz still {status} {body!r} 5 s after SIGTERM"
            time.sleep(0.05)
        assert body == "not ready: shutting down\n"
        assert relay.proc.poll() is None, "relayd exited while a message was still being received"
        assert http_get(relay, "/livez")[0] == 200
        c.send(b".\r\n")
        assert c.reply().code == 250
    assert relay.proc.wait(15) == 0
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", relay.admin_port), timeout=2).close()
