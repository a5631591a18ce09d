"""relayctl, black-box: the operator's commands (docs/relayctl.md) against a real relayd whose upstream is
down, so messages stay deferred, and against a stopped relayd for the read-only commands.

relayctl is the binary next to relayd. It finds relayd from RELAY_CONFIG (as in the container) unless a test
says otherwise.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import time

import pytest

from relayd_harness import relayd_binary
from smtp_wire import SMTPWire, message

SLOW_RETRY = {"first": "1h", "max": "1h", "multiplier": 1, "jitter": 0}


# -- helpers ---------------------------------------------------------------------------------------

def relayctl(relay, *args: str, stdin: str | None = None, env: dict | None = None, config: bool = True,
             timeout: float = 60.0) -> subprocess.CompletedProcess:
    """Runs relayctl with RELAY_CONFIG pointing at `relay`'s config (unless config=False)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("RELAY_")}
    if config:
        full_env["RELAY_CONFIG"] = str(relay.config_path)
    full_env.update(env or {})
    return subprocess.run(
        [str(relayd_binary().parent / "relayctl"), *args], input=stdin, capture_output=True, text=True,
        env=full_env, cwd=relay.workdir, timeout=timeout,
    )


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    return result.stdout


def submit(relay, sender: str, rcpts: list[str], subject: str, body: str = "hello\r\n") -> str:
    with SMTPWire(relay.host, relay.port) as c:
        c.start()
        r = c.send_message(sender, rcpts, message(subject, body, sender=sender, to=rcpts[0]))
        assert r.code == 250 and r.queue_id, r
        c.cmd("QUIT")
        return r.queue_id


def wait_deferred(relay, qid: str, timeout: float = 30.0) -> None:
    relay.wait_for_log(lambda r: r.get("msg") == "delivery" and r.get("id") == qid and r.get("status") == "deferred",
                       timeout, f"a deferral of {qid}")


def queue_json(relay, *args: str) -> list[dict]:
    result = relayctl(relay, "queue", "--json", *args)
    assert result.returncode in (0, 1), result
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


@pytest.fixture
def down_relay(relay_factory, upstream_factory):
    """relayd whose upstream is not listening (yet): up = the upstream to start later."""
    up = upstream_factory(start=False)
    relay = relay_factory(up.relay_config(retry=SLOW_RETRY))
    relay.upstream = up
    return relay


# -- queue -------------------------------------------------------------------------------------------

def test_queue_lists_deferred_messages_as_a_table_and_as_json(down_relay):
    relay = down_relay
    a = submit(relay, "notifications@mast.town", ["bob@example.org"], "first")
    b = submit(relay, "", ["alice@example.net", "carol@example.net"], "second")
    wait_deferred(relay, a)
    wait_deferred(relay, b)

    out = ok(relayctl(relay, "queue"))
    lines = out.splitlines()
    assert re.match(r"ID\s+SIZE\s+AGE\s+STATE\s+TRIES\s+NEXT TRY\s+FROM\s+TO", lines[0]), out
    row_a = next(line for line in lines if line.startswith(a))
    assert "deferred" in row_a and "notifications@mast.town" in row_a and "bob@example.org" in row_a, row_a
    assert re.search(r"\bin \d+[hm]", row_a), f"next try should be in about an hour: {row_a}"
    row_b = next(line for line in lines if line.startswith(b))
    assert "<>" in row_b, f"the null sender shows as <>: {row_b}"
    assert "carol@example.net" in out, "every recipient is listed"
    assert re.search(r"^2 messages, [\d.]+[KMG]? — 2 deferred; oldest \S+", lines[-1]), lines[-1]

    entries = {e["id"]: e for e in queue_json(relay)}
    assert set(entries) == {a, b}
    e = entries[a]
    assert e["state"] == "deferred" and e["attempts"] >= 1 and e["sender"] == "notifications@mast.town"
    assert isinstance(e["size"], int) and e["size"] > 0
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$", e["arrival"]), e["arrival"]
    assert abs(e["arrival_epoch"] - time.time()) < 300
    assert e["age_seconds"] >= 0
    assert e["next_attempt"] is not None and e["next_attempt"].endswith("Z")
    assert e["client"]["address"].startswith("127.0.0.1")
    assert [r["address"] for r in e["recipients"]] == ["bob@example.org"]
    assert e["recipients"][0]["status"] == "deferred" and e["recipients"][0]["reply"]
    assert e["last_reply"] == e["recipients"][0]["reply"]
    assert entries[b]["sender"] == ""


def test_queue_filters(down_relay):
    relay = down_relay
    a = submit(relay, "news@mast.town", ["bob@example.org"], "a")
    b = submit(relay, "alerts@other.example", ["dave@example.com"], "b")
    wait_deferred(relay, a)
    wait_deferred(relay, b)

    assert [e["id"] for e in queue_json(relay, "--from", "MAST.TOWN")] == [a]
    assert [e["id"] for e in queue_json(relay, "--to", "dave@")] == [b]
    assert {e["id"] for e in queue_json(relay, "--state", "deferred")} == {a, b}
    none = relayctl(relay, "queue", "--older-than", "1h")
    assert none.returncode == 1 and "No messages match" in none.stdout, none
    assert relayctl(relay, "queue", "--state", "held").returncode == 1
    bad = relayctl(relay, "queue", "--state", "sideways")
    assert bad.returncode == 2 and bad.stderr.strip(), bad


def test_an_empty_queue_says_so(down_relay):
    result = relayctl(down_relay, "queue")
    assert result.returncode == 0 and "Mail queue is empty" in result.stdout, result


# -- show ----------------------------------------------------------------------------------------------

def test_show_prints_envelope_recipients_and_headers_and_raw_prints_the_message(down_relay):
    relay = down_relay
    qid = submit(relay, "notifications@mast.town", ["bob@example.org"], "Weekly digest", "SECRET-BODY-LINE\r\n")
    wait_deferred(relay, qid)

    out = ok(relayctl(relay, "show", qid))
    assert qid in out and "notifications@mast.town" in out and "bob@example.org" in out
    assert "deferred" in out
    assert re.search(r"^History:", out, re.M), f"the attempt history is shown: {out}"
    assert "Subject: Weekly digest" in out, "headers are shown"
    assert "SECRET-BODY-LINE" not in out, "the body is not"

    raw = relayctl(relay, "show", "--raw", qid)
    assert raw.returncode == 0
    assert raw.stdout.startswith("Received: ")
    assert "SECRET-BODY-LINE" in raw.stdout and "Subject: Weekly digest" in raw.stdout

    missing = relayctl(relay, "show", "0000000000000")
    assert missing.returncode == 1 and "0000000000000" in missing.stderr, missing


# -- hold / flush / release / delete ---------------------------------------------------------------------

def test_held_messages_stay_through_flush_and_restart_until_released(down_relay):
    relay = down_relay
    held = submit(relay, "a@example.com", ["held@example.org"], "held one")
    other = submit(relay, "a@example.com", ["other@example.org"], "other one")
    wait_deferred(relay, held)
    wait_deferred(relay, other)

    assert re.search(rf"^{held}: held$", ok(relayctl(relay, "hold", held)), re.M)
    assert {e["id"]: e["state"] for e in queue_json(relay)}[held] == "held"

    up = relay.upstream
    up.start()
    out = ok(relayctl(relay, "flush"))
    assert re.search(r"\b1\b", out), f"one deferred message flushed: {out}"
    got = up.wait_for_messages(1, timeout=30)
    time.sleep(2)
    assert [m.rcpts for m in up.snapshot()] == [["other@example.org"]], "the held message was not delivered"
    assert relayctl(relay, "flush", held).returncode == 0
    time.sleep(1)
    assert len(up.snapshot()) == 1, "flushing a held message leaves it held"
    assert got

    relay.stop()
    relay.start()
    time.sleep(2)
    assert len(up.snapshot()) == 1, "still held after a restart"
    assert {e["id"]: e["state"] for e in queue_json(relay)} == {held: "held"}

    assert re.search(rf"^{held}: released$", ok(relayctl(relay, "release", held)), re.M)
    up.wait_for_messages(2, timeout=30)
    assert sorted(m.rcpts[0] for m in up.snapshot()) == ["held@example.org", "other@example.org"]


def test_delete_one_and_bulk_delete_with_confirmation(down_relay):
    relay = down_relay
    ids = [submit(relay, "a@example.com", [f"r{i}@example.org"], f"m{i}") for i in range(3)]
    for qid in ids:
        wait_deferred(relay, qid)

    assert re.search(rf"^{ids[0]}: deleted$", ok(relayctl(relay, "delete", ids[0])), re.M)
    assert ids[0] not in relay.queued_ids()
    again = relayctl(relay, "delete", ids[0])
    assert again.returncode == 1 and "not found" in (again.stdout + again.stderr), again

    refused = relayctl(relay, "delete", "--state", "deferred", stdin="n\n")
    assert refused.returncode == 1, refused
    assert "Delete 2 deferred messages?" in refused.stdout + refused.stderr
    assert relay.queued_ids() == set(ids[1:]), "nothing deleted without a yes"

    ok(relayctl(relay, "delete", "--state", "deferred", "--yes"))
    assert relay.queued_ids() == set()
    assert "Mail queue is empty" in ok(relayctl(relay, "queue"))
    # Deleted means gone for good: a restart brings nothing back.
    relay.stop()
    relay.start()
    assert "Mail queue is empty" in ok(relayctl(relay, "queue"))


# -- stats ----------------------------------------------------------------------------------------------

def test_stats_counts_and_upstream_health(down_relay):
    relay = down_relay
    for i in range(2):
        wait_deferred(relay, submit(relay, "a@example.com", [f"r{i}@example.org"], f"s{i}"))
    out = ok(relayctl(relay, "stats"))
    assert re.search(r"deferred\s*:?\s*2\b", out), out
    assert re.search(r"unreachable|not reachable|down", out, re.I), out
    data = json.loads(ok(relayctl(relay, "stats", "--json")))
    assert data["queue"]["counts"]["deferred"] == 2 and data["queue"]["messages"] == 2
    assert data["last_hour"]["deferred"] >= 2
    upstream = data["upstreams"][0]
    assert upstream["reachable"] is False and upstream["last_error"] and upstream["last_error_at"].endswith("Z")


# -- daemon down, discovery, socket -------------------------------------------------------------------

def test_read_only_commands_read_the_spool_when_relayd_is_down_and_changes_exit_3(down_relay):
    relay = down_relay
    qid = submit(relay, "a@example.com", ["bob@example.org"], "offline")
    wait_deferred(relay, qid)
    relay.stop()

    listing = relayctl(relay, "queue")
    assert listing.returncode == 0 and qid in listing.stdout, listing
    assert "not running" in listing.stderr and len(listing.stderr.strip().splitlines()) == 1, listing.stderr
    assert qid in ok(relayctl(relay, "show", qid))
    assert "deferred" in ok(relayctl(relay, "stats"))
    for args in (["flush"], ["hold", qid], ["release", qid], ["delete", qid]):
        result = relayctl(relay, *args)
        assert result.returncode == 3, (args, result)
        assert "relayd" in result.stderr and result.stderr.startswith("relayctl: "), result.stderr
    assert qid in relay.queued_ids(), "nothing changed while relayd was down"


def test_the_control_socket_is_private_and_found_by_flag_or_environment(down_relay):
    relay = down_relay
    mode = stat.S_IMODE(os.stat(relay.control).st_mode)
    assert stat.S_ISSOCK(os.stat(relay.control).st_mode) and mode == 0o600, oct(mode)
    assert ok(relayctl(relay, "stats", "--socket", str(relay.control), config=False))
    assert ok(relayctl(relay, "flush", config=False, env={"RELAY_CONTROL_SOCKET": str(relay.control)}))
    nowhere = relayctl(relay, "flush", "--socket", str(relay.workdir / "nothing.sock"), config=False)
    assert nowhere.returncode == 3, nowhere
    usage = relayctl(relay, "hold")
    assert usage.returncode == 2, usage


# -- send-test ----------------------------------------------------------------------------------------

def test_send_test_reports_delivery_and_deferral(relay_factory, upstream_factory):
    up = upstream_factory()
    relay = relay_factory(up.relay_config(retry=SLOW_RETRY))
    out = ok(relayctl(relay, "send-test", "--to", "ops@example.org"))
    assert re.search(r"\b[0-9A-Z]{13}\b", out), f"the queue id is printed: {out}"
    assert re.search(r"deliver|sent", out, re.I) and "250" in out, out
    msgs = up.wait_for_messages(1)
    assert msgs[0].rcpts == ["ops@example.org"]

    up.stop()
    time.sleep(0.5)
    failed = relayctl(relay, "send-test", "--to", "ops@example.org", "--timeout", "30s")
    assert failed.returncode == 1, failed
    assert "deferred" in (failed.stdout + failed.stderr).lower(), failed
