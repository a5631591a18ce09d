"""Upstream delivery, black-box: relayd relays to an independent SMTP server (aiosmtpd, see
aiosmtpd_upstream.py) over STARTTLS / implicit TLS / plain, with AUTH PLAIN/LOGIN, and copes with
what upstreams do: refuse TLS, show an untrusted or wrong certificate, 4xx and 421 replies, reject
one recipient with 5xx, be down for a while. Each test checks what the upstream actually saw
(commands, TLS, login, bytes) and what relayd logged and kept in its spool.

Log lines are read loosely: a `msg=delivery` record with `id=<queue id>`, `to=` and
`status=` (sent/delivered, deferred, bounced/failed).
"""

from __future__ import annotations

import email
import re
import shutil
import smtplib
import socket
import ssl
import subprocess
import time

import pytest

from relayd_harness import free_port, split_received
from smtp_wire import SMTPWire, message

USER, PASSWORD = "relay-login@example.com", "s3cret:pass word="
FAST_RETRY = {"first": "1s", "max": "1s", "multiplier": 1, "jitter": 0}
SENT, DEFERRED, BOUNCED = {"sent", "delivered"}, {"deferred"}, {"bounced", "failed"}
CERT_ERROR = re.compile(r"certif|verif|x509|trust|issuer|unknown.ca", re.I)


# -- helpers ---------------------------------------------------------------------------------------

def deliveries(relay, qid: str | None = None, to: str | None = None) -> list[dict]:
    return [
        r for r in relay.log_records()
        if r.get("msg") == "delivery" and (qid is None or r.get("id") == qid)
        and (to is None or to.lower() in recipients_of(r))
    ]


def recipients_of(rec: dict) -> list[str]:
    """The addresses of a delivery record's to= (one line may cover several: to=<a>,<b>)."""
    return [a.strip().strip("<>").lower() for a in rec.get("to", "").split(",") if a.strip()]


def wait_delivery(relay, qid: str, statuses: set[str], *, to: str | None = None, timeout: float = 30.0) -> dict:
    return relay.wait_for_log(
        lambda r: r.get("msg") == "delivery" and r.get("id") == qid and r.get("status") in statuses
        and (to is None or to.lower() in recipients_of(r)),
        timeout, f"delivery id={qid}{' to=' + to if to else ''} status in {sorted(statuses)}",
    )


def record_text(rec: dict) -> str:
    return " ".join(f"{k}={v}" for k, v in rec.items())


def submit(relay, mail_from: str, rcpts: list[str], data: bytes) -> str:
    """One message into relayd; returns the queue id from its 250."""
    with SMTPWire(relay.host, relay.port) as c:
        c.start()
        r = c.send_message(mail_from, rcpts, data)
        assert r.code == 250 and r.queue_id, f"relayd did not accept the message: {r}"
        c.cmd("QUIT")
        return r.queue_id


def assert_relayed_intact(got, sent: bytes) -> None:
    """The upstream's copy is relayd's Received: header(s) on top of exactly the bytes sent."""
    received, rest = split_received(got.data)
    assert received, f"relayd should prepend a Received: header: {got.data[:300]!r}"
    assert b"relay.test" in received[0], f"the top Received: should name relayd's hostname: {received[0]!r}"
    assert rest == sent, f"the relayed message is not byte-identical:\nsent {sent[:400]!r}\ngot  {rest[:400]!r}"


def assert_no_secret_leak(relay) -> None:
    assert PASSWORD not in relay.log_text(), "the upstream password appears in relayd's log"


def wait_gone_from_queue(relay, qid: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while qid in relay.queued_ids():
        assert time.monotonic() < deadline, f"{qid} is still in the spool queue {timeout}s after delivery"
        time.sleep(0.05)


def wait_retired_to_failed(relay, qid: str, timeout: float = 10.0) -> None:
    """A finished message with a failed recipient leaves queue/ for <spool>/failed/<id>.msg."""
    deadline = time.monotonic() + timeout
    while qid in relay.queued_ids() or f"{qid}.msg" not in {p.name for p in relay.failed_entries()}:
        assert time.monotonic() < deadline, (
            f"{qid} should have moved from queue/ to failed/: queued={qid in relay.queued_ids()} "
            f"failed/={[p.name for p in relay.failed_entries()]}")
        time.sleep(0.05)


def tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        pytest.fail(f"{name} is not installed (scripts/test installs it)", pytrace=False)
    return path


# -- the fixture itself: prove the independent upstream enforces what the tests rely on ------------

def test_fixture_upstream_enforces_starttls_auth_and_faults(upstream_factory, test_ca):
    """Without relayd: a client that skips STARTTLS gets 530 at MAIL, AUTH is offered only after
    STARTTLS, a wrong password gets 535, the certificate verifies against the test CA only for its
    names, scripted 421/451/550 replies happen, and a stopped upstream's port is closed."""
    up = upstream_factory(tls="starttls", cert=test_ca.good, auth=(USER, PASSWORD))
    with smtplib.SMTP(up.host, up.port, timeout=10) as s:
        s.ehlo("client.test")
        assert s.has_extn("starttls") and not s.has_extn("auth")
        code, _ = s.mail("a@example.com")
        assert code == 530
    ctx = ssl.create_default_context(cafile=str(test_ca.ca.ca_cert))
    with smtplib.SMTP(up.host, up.port, timeout=10) as s:
        s.starttls(context=ctx)
        s.ehlo("client.test")
        assert "PLAIN" in s.esmtp_features["auth"] and "LOGIN" in s.esmtp_features["auth"]
        with pytest.raises(smtplib.SMTPAuthenticationError):
            s.login(USER, "wrong")
    with smtplib.SMTP(up.host, up.port, timeout=10) as s:
        s.starttls(context=ctx)
        s.login(USER, PASSWORD)
        up.faults.mail.append("451 4.3.0 try again later")
        up.faults.rcpt_reply["nobody@example.com"] = "550 5.1.1 <nobody@example.com>: user unknown"
        with pytest.raises(smtplib.SMTPSenderRefused):
            s.sendmail("a@example.com", ["b@example.com"], b"Subject: x\r\n\r\nx\r\n")
        refused = s.sendmail("a@example.com", ["b@example.com", "nobody@example.com"],
                             b"Subject: y\r\nMessage-ID: <y@test>\r\n\r\ny\r\n")
        assert refused == {"nobody@example.com": (550, b"5.1.1 <nobody@example.com>: user unknown")}
    [m] = up.snapshot()
    assert (m.rcpts, m.tls, m.login, m.message_id) == (["b@example.com"], True, USER, "<y@test>")
    assert [c.verb for c in up.commands() if not c.tls] == ["EHLO", "MAIL", "QUIT"] + ["EHLO", "STARTTLS"] * 2

    # the wrong-name certificate really is wrong for 127.0.0.1 and localhost, right for other.example
    other = upstream_factory(tls="implicit", cert=test_ca.other)
    for name in ("127.0.0.1", "localhost"):
        with pytest.raises(ssl.SSLCertVerificationError):
            smtplib.SMTP_SSL(name, other.port, context=ctx, timeout=10).quit()
    lax = ssl.create_default_context(cafile=str(test_ca.ca.ca_cert))
    raw = socket.create_connection((other.host, other.port), timeout=10)
    with lax.wrap_socket(raw, server_hostname="other.example") as tls_sock:
        assert tls_sock.recv(100).startswith(b"220")
    # 421 closes the connection at once, even when the client pipelined more
    plain = upstream_factory(tls="none")
    plain.faults.mail.append("421 4.3.2 shutting down")
    with SMTPWire(plain.host, plain.port) as c:
        c.start()
        c.send(b"MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n")
        assert c.reply().status == "421 4.3.2"
        assert c.wait_closed(5), "the fixture must close after 421"
    assert [c.verb for c in plain.commands()] == ["EHLO", "MAIL"]
    plain.stop()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((plain.host, plain.port), timeout=5).close()


# -- 1. STARTTLS + AUTH --------------------------------------------------------------------------

@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_starttls_auth_delivers_once_byte_identical(relay_factory, upstream_factory, test_ca, tmp_path, mechanism):
    """swaks → relayd → aiosmtpd (STARTTLS required, AUTH required, only `mechanism` offered):
    the message arrives once, over TLS, logged in as the configured user, byte for byte what swaks
    sent below relayd's Received: header; nothing went over the wire in clear but EHLO/STARTTLS."""
    up = upstream_factory(tls="starttls", cert=test_ca.good, auth=(USER, PASSWORD), mechanisms=(mechanism,))
    secret = {"password": PASSWORD}
    if mechanism == "LOGIN":  # the other way to give the password: a file with a trailing newline
        pw = tmp_path / "upstream-password"
        pw.write_text(PASSWORD + "\n")
        secret = {"password_file": str(pw)}
    relay = relay_factory(up.relay_config(ca_file=test_ca.ca.ca_cert, verify_certificate=True,
                                          username=USER, **secret))
    text = (
        "From: <swaks@example.com>\nTo: <someone@example.com>\nSubject: upstream delivery\n"
        "Date: Mon, 01 Jan 2024 00:00:00 +0000\nMessage-ID: <swaks-upstream-1@example.com>\n\n"
        "Hello upstream.\n.a line starting with a dot\n..two dots\n.\n"
        + "x" * 900 + "\n\nlast line"
    )
    data = tmp_path / "swaks.txt"
    data.write_text(text)
    p = subprocess.run(
        [tool("swaks"), "--server", f"{relay.host}:{relay.port}", "--from", "swaks@example.com",
         "--to", "someone@example.com", "--data", f"@{data}"],
        capture_output=True, text=True, timeout=60,
    )
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    m = re.search(r"<-\s+250 .*queued as ([0-9A-Za-z]+)", p.stdout)
    assert m, f"no queue id in swaks' transcript:\n{p.stdout[-1500:]}"
    qid = m.group(1)

    [got] = up.wait_for_messages(1, timeout=30, settle=1.5)  # settle: a second copy would show up
    assert got.mail_from == "swaks@example.com" and got.rcpts == ["someone@example.com"]
    assert got.tls, "the message went over a connection without TLS"
    assert got.login == USER and got.auth_mechanism == mechanism, (got.login, got.auth_mechanism)
    assert_relayed_intact(got, text.replace("\n", "\r\n").encode() + b"\r\n")

    for s in up.client_sessions():
        clear = [c.verb for c in s.commands if not c.tls]
        assert set(clear) <= {"EHLO", "HELO", "STARTTLS", "QUIT", "NOOP"}, f"sent in clear: {clear}"
        assert s.ehlo == "relay.test", f"relayd should EHLO with its hostname, not {s.ehlo!r}"
    verbs = [c.verb for s in up.client_sessions() for c in s.commands if c.tls]
    assert "AUTH" in verbs and "MAIL" in verbs and verbs.index("AUTH") < verbs.index("MAIL"), verbs

    rec = wait_delivery(relay, qid, SENT)
    assert recipients_of(rec) == ["someone@example.com"], record_text(rec)
    assert all(r.get("status") in SENT for r in deliveries(relay, qid)), [record_text(r) for r in deliveries(relay, qid)]
    wait_gone_from_queue(relay, qid)
    assert relay.outbox_files() == [], "with an upstream configured nothing may go to the outbox"
    assert_no_secret_leak(relay)


# -- 2. STARTTLS required by relayd, not offered -------------------------------------------------

def test_starttls_not_offered_defers_and_sends_nothing(relay_factory, upstream_factory, test_ca):
    up = upstream_factory(tls="none", auth=(USER, PASSWORD))  # offers AUTH in clear, no STARTTLS
    relay = relay_factory(up.relay_config(tls="starttls", ca_file=test_ca.ca.ca_cert, username=USER,
                                          password=PASSWORD, retry=FAST_RETRY))
    qid = submit(relay, "a@example.com", ["b@example.com"], message("no starttls", "body"))
    rec = wait_delivery(relay, qid, DEFERRED)
    assert "starttls" in record_text(rec).lower(), f"the deferral should say STARTTLS is missing: {record_text(rec)}"
    time.sleep(2.5)  # a couple of retries (retry.first 1s) must not change anything
    seen = {c.verb for c in up.commands()}
    assert "MAIL" not in seen and "AUTH" not in seen, f"relayd went on without TLS: {up.transcript()}"
    assert up.snapshot() == []
    assert qid in relay.queued_ids(), "a deferred message must stay queued"
    assert not [r for r in deliveries(relay, qid) if r.get("status") in SENT | BOUNCED]
    assert_no_secret_leak(relay)


# -- 3. certificate trust and name ------------------------------------------------------------------

@pytest.mark.parametrize("tls", ["starttls", "implicit"])
def test_untrusted_certificate_defers(relay_factory, upstream_factory, test_ca, tls):
    """The test CA is not in the system's trust store and ca_file is not given: verification fails."""
    up = upstream_factory(tls=tls, cert=test_ca.good, auth=(USER, PASSWORD))
    relay = relay_factory(up.relay_config(verify_certificate=True, username=USER, password=PASSWORD,
                                          retry=FAST_RETRY))
    qid = submit(relay, "a@example.com", ["b@example.com"], message("untrusted", "body"))
    rec = wait_delivery(relay, qid, DEFERRED)
    assert CERT_ERROR.search(record_text(rec)), f"the deferral should name the certificate problem: {record_text(rec)}"
    time.sleep(1.5)
    assert not ({"MAIL", "AUTH"} & {c.verb for c in up.commands()}), up.transcript()
    assert up.snapshot() == [] and qid in relay.queued_ids()
    assert_no_secret_leak(relay)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_certificate_for_another_name_defers(relay_factory, upstream_factory, test_ca, host):
    """A certificate from the trusted CA, but for other.example: not the configured upstream.host."""
    up = upstream_factory(tls="starttls", cert=test_ca.other, auth=(USER, PASSWORD))
    relay = relay_factory(up.relay_config(host=host, ca_file=test_ca.ca.ca_cert, verify_certificate=True,
                                          username=USER, password=PASSWORD, retry=FAST_RETRY))
    qid = submit(relay, "a@example.com", ["b@example.com"], message("wrong name", "body"))
    rec = wait_delivery(relay, qid, DEFERRED)
    reason = rec.get("reply") or record_text(rec)
    assert CERT_ERROR.search(reason) and re.search(r"name|host|match|address", reason, re.I), \
        f"the deferral should say the certificate does not match the name: {record_text(rec)}"
    time.sleep(1.5)
    assert not ({"MAIL", "AUTH"} & {c.verb for c in up.commands()}), up.transcript()
    assert up.snapshot() == [] and qid in relay.queued_ids()


@pytest.mark.parametrize("case", ["localhost-name-matches", "verify-off"])
def test_certificate_controls_deliver(relay_factory, upstream_factory, test_ca, case):
    """The positive controls for the two tests above: the right name (here a DNS name) verifies,
    and verify_certificate: false accepts the untrusted certificate."""
    up = upstream_factory(tls="starttls", cert=test_ca.good)
    if case == "localhost-name-matches":
        conf = up.relay_config(host="localhost", ca_file=test_ca.ca.ca_cert, verify_certificate=True)
    else:
        conf = up.relay_config(verify_certificate=False)
    relay = relay_factory(conf)
    sent = message(f"control {case}", "body")
    qid = submit(relay, "a@example.com", ["b@example.com"], sent)
    [got] = up.wait_for_messages(1, timeout=30)
    assert got.tls
    assert_relayed_intact(got, sent)
    wait_delivery(relay, qid, SENT)


# -- 4. implicit TLS -------------------------------------------------------------------------------

def test_implicit_tls_delivers_8bit_intact(relay_factory, upstream_factory, test_ca):
    up = upstream_factory(tls="implicit", cert=test_ca.good, auth=(USER, PASSWORD))
    relay = relay_factory(up.relay_config(ca_file=test_ca.ca.ca_cert, username=USER, password=PASSWORD))
    body = (
        "From: <py@example.com>\r\nTo: <someone@example.com>\r\nSubject: implicit\r\n"
        "Message-ID: <implicit-1@example.com>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        ".leading dot\r\nGrüße aus Köln — 日本語\r\n.\r\nlast line\r\n"
    ).encode()
    with smtplib.SMTP(relay.host, relay.port, timeout=15) as s:
        s.sendmail("py@example.com", ["someone@example.com"], body, mail_options=["BODY=8BITMIME"])
    [got] = up.wait_for_messages(1, timeout=30, settle=1.0)
    assert got.tls and got.tls_version in ("TLSv1.2", "TLSv1.3"), got.tls_version
    assert got.login == USER
    assert [c.verb for c in up.commands()][0] == "EHLO"  # TLS from the first byte: no STARTTLS
    assert "STARTTLS" not in [c.verb for c in up.commands()]
    assert_relayed_intact(got, body)
    assert "BODY=8BITMIME" in got.mail_options, f"8-bit mail relayed without BODY=8BITMIME: {got.mail_options}"


def test_plain_upstream_on_loopback_uses_auth(relay_factory, upstream_factory):
    """tls: none is for a trusted local upstream; on a loopback address AUTH is still used."""
    up = upstream_factory(tls="none", auth=(USER, PASSWORD))
    relay = relay_factory(up.relay_config(username=USER, password=PASSWORD))
    sent = message("plain loopback", "body")
    submit(relay, "a@example.com", ["b@example.com"], sent)
    [got] = up.wait_for_messages(1, timeout=30)
    assert not got.tls and got.login == USER
    assert_relayed_intact(got, sent)


def test_rejected_credentials_defer_not_bounce(relay_factory, upstream_factory, test_ca):
    """535 to AUTH is the relay's configuration problem, not the message's: defer and keep it
    (as Postfix does), never bounce the sender's mail."""
    up = upstream_factory(tls="starttls", cert=test_ca.good, auth=(USER, PASSWORD))
    relay = relay_factory(up.relay_config(ca_file=test_ca.ca.ca_cert, username=USER, password="wrong password",
                                          retry=FAST_RETRY))
    qid = submit(relay, "a@example.com", ["b@example.com"], message("bad login", "body"))
    wait_delivery(relay, qid, DEFERRED)
    time.sleep(2.0)
    assert any(not ok for s in up.client_sessions() for _, _, ok in s.auth), "relayd never tried to log in"
    assert "MAIL" not in {c.verb for c in up.commands()}
    assert up.snapshot() == [], "nothing may arrive: no message, no DSN"
    assert qid in relay.queued_ids()
    assert not [r for r in deliveries(relay, qid) if r.get("status") in BOUNCED]


# -- 5. one recipient rejected: DSN ----------------------------------------------------------------

def dsn_parts(data: bytes):
    """(whole message, per-recipient field blocks) of a DSN; asserts it is a multipart/report."""
    _, rest = split_received(data)
    msg = email.message_from_bytes(rest)
    assert msg.get_content_type() == "multipart/report", f"not a multipart/report: {rest[:600]!r}"
    assert (msg.get_param("report-type") or "").lower() == "delivery-status", msg["Content-Type"]
    status_parts = [p for p in msg.walk() if p.get_content_type() == "message/delivery-status"]
    assert len(status_parts) == 1, f"expected one message/delivery-status part: {rest[:1500]!r}"
    blocks = status_parts[0].get_payload()
    assert isinstance(blocks, list) and len(blocks) >= 2, f"no per-recipient fields: {rest[:1500]!r}"
    return msg, blocks


def test_one_recipient_rejected_gets_exactly_one_dsn(relay_factory, upstream_factory):
    up = upstream_factory(tls="none")
    up.faults.rcpt_reply["nobody@example.com"] = "550 5.1.1 <nobody@example.com>: Recipient address rejected"
    relay = relay_factory(up.relay_config(retry=FAST_RETRY, bounces="dsn"))
    sent = message("half rejected", "hello both", sender="sender@example.com", to="good@example.com")
    qid = submit(relay, "sender@example.com", ["good@example.com", "nobody@example.com"], sent)

    msgs = up.wait_for_messages(2, timeout=30)
    time.sleep(2.5)  # retry.first is 1s: a retry or a second DSN would arrive now
    msgs = up.snapshot()
    originals = [m for m in msgs if m.mail_from == "sender@example.com"]
    dsns = [m for m in msgs if m.mail_from == ""]
    assert len(msgs) == 2 and len(originals) == 1 and len(dsns) == 1, up.transcript()
    assert originals[0].rcpts == ["good@example.com"]
    assert_relayed_intact(originals[0], sent)

    dsn = dsns[0]
    assert dsn.rcpts == ["sender@example.com"], f"the DSN must go to the original sender: {dsn.rcpts}"
    msg, blocks = dsn_parts(dsn.data)
    assert blocks[0].get("Reporting-MTA"), f"no Reporting-MTA: {blocks[0]}"
    per_rcpt = {(b.get("Final-Recipient") or "").split(";")[-1].strip().strip("<>").lower(): b for b in blocks[1:]}
    assert "nobody@example.com" in per_rcpt, f"the failed recipient is not reported: {list(per_rcpt)}"
    failed = per_rcpt["nobody@example.com"]
    assert failed.get("Action", "").strip().lower() == "failed", failed
    assert failed.get("Status", "").strip() == "5.1.1", failed
    good = per_rcpt.get("good@example.com")
    assert good is None or good.get("Action", "").strip().lower() != "failed", "the delivered recipient is reported failed"
    assert b"half rejected" in dsn.data or b"<half.rejected@test.example>" in dsn.data, \
        "the DSN should carry the original headers so the sender can tell which message bounced"

    rcpts = [c.line for c in up.commands("RCPT") if b"nobody@example.com" in c.line]
    assert len(rcpts) == 1, f"the permanently failed recipient was tried {len(rcpts)} times"
    wait_delivery(relay, qid, BOUNCED, to="nobody@example.com")
    wait_delivery(relay, qid, SENT, to="good@example.com")
    wait_retired_to_failed(relay, qid)


def test_null_sender_failure_gets_no_dsn(relay_factory, upstream_factory):
    up = upstream_factory(tls="none")
    up.faults.rcpt_reply["nobody@example.com"] = "550 5.1.1 <nobody@example.com>: Recipient address rejected"
    relay = relay_factory(up.relay_config(retry=FAST_RETRY, bounces="dsn"))
    qid = submit(relay, "", ["nobody@example.com"], message("bounce of a bounce", "x"))
    wait_delivery(relay, qid, BOUNCED)
    time.sleep(3.0)
    assert up.snapshot() == [], f"a message from <> must never cause a DSN: {up.transcript()}"
    assert len(up.commands("RCPT")) == 1, "the permanently failed recipient was retried"
    wait_retired_to_failed(relay, qid)


def test_bounces_none_sends_no_dsn_but_keeps_the_message(relay_factory, upstream_factory):
    up = upstream_factory(tls="none")
    up.faults.rcpt_reply["nobody@example.com"] = "550 5.1.1 <nobody@example.com>: Recipient address rejected"
    relay = relay_factory(up.relay_config(retry=FAST_RETRY, bounces="none"))
    qid = submit(relay, "sender@example.com", ["nobody@example.com"], message("no bounces", "x"))
    wait_delivery(relay, qid, BOUNCED)
    wait_retired_to_failed(relay, qid)
    time.sleep(2.0)
    assert up.snapshot() == [], f"bounces: none must not send a DSN: {up.transcript()}"


def test_lifetime_expiry_bounces_with_one_dsn(relay_factory, upstream_factory):
    """A recipient that only ever gets 4xx is given up after retry.lifetime: the sender gets one DSN
    reporting it failed, and relayd stops trying."""
    up = upstream_factory(tls="none")
    up.faults.rcpt_reply["busy@example.com"] = "452 4.2.2 <busy@example.com>: mailbox full, try later"
    relay = relay_factory(up.relay_config(retry={**FAST_RETRY, "lifetime": "3s"}, bounces="dsn"))
    qid = submit(relay, "sender@example.com", ["busy@example.com"], message("expires", "x"))
    wait_delivery(relay, qid, DEFERRED)
    wait_delivery(relay, qid, BOUNCED, timeout=20)
    [dsn] = up.wait_for_messages(1, timeout=15, settle=2.5)
    assert dsn.mail_from == "" and dsn.rcpts == ["sender@example.com"], up.transcript()
    _, blocks = dsn_parts(dsn.data)
    per_rcpt = {(b.get("Final-Recipient") or "").split(";")[-1].strip().strip("<>").lower(): b for b in blocks[1:]}
    assert per_rcpt.get("busy@example.com", {}).get("Action", "").strip().lower() == "failed", blocks
    tries = len([c for c in up.commands("RCPT") if b"busy@example.com" in c.line])
    wait_retired_to_failed(relay, qid)
    time.sleep(1.5)
    assert len([c for c in up.commands("RCPT") if b"busy@example.com" in c.line]) == tries, \
        "relayd went on trying after the lifetime expired"
    assert len(up.snapshot()) == 1, "exactly one DSN"


# -- 6. temporary failures, then success -------------------------------------------------------------

def test_421_then_451_then_delivered_once_with_backoff(relay_factory, upstream_factory):
    up = upstream_factory(tls="none")
    up.faults.mail.extend(["421 4.3.2 Service shutting down", "451 4.3.0 Temporary lookup failure"])
    relay = relay_factory(up.relay_config(retry={"first": "1s", "max": "10s", "multiplier": 2, "jitter": 0}))
    sent = message("retried", "body")
    qid = submit(relay, "a@example.com", ["b@example.com"], sent)
    [got] = up.wait_for_messages(1, timeout=30, settle=2.0)
    assert_relayed_intact(got, sent)
    assert len(up.snapshot()) == 1

    mails = up.commands("MAIL")
    assert len(mails) == 3, f"expected 3 attempts (421, 451, 250), saw {len(mails)}: {up.transcript()}"
    gap1, gap2 = mails[1].at - mails[0].at, mails[2].at - mails[1].at
    # jitter 0: waits of 1s then 2s (multiplier 2); relayd releases due retries on a 1 s tick, so each
    # may come up to ~1 s late; a little more slack for a busy machine
    assert 0.9 <= gap1 <= 3.5, f"first retry after {gap1:.2f}s, expected ~1s"
    assert 1.9 <= gap2 <= 5.0, f"second retry after {gap2:.2f}s, expected ~2s"

    wait_delivery(relay, qid, SENT)
    statuses = [r.get("status") for r in deliveries(relay, qid)]
    assert statuses[:2] == ["deferred", "deferred"] and statuses[2] in SENT and len(statuses) == 3, statuses
    wait_gone_from_queue(relay, qid)


# -- 7. upstream down, then up ------------------------------------------------------------------------

def test_upstream_down_then_up_delivers_everything_once(relay_factory, upstream_factory):
    up = upstream_factory(tls="none", start=False)  # port reserved, nothing listening
    relay = relay_factory(up.relay_config(retry=FAST_RETRY))
    sent: dict[str, bytes] = {}
    with SMTPWire(relay.host, relay.port) as c:
        c.start()
        for i in range(20):
            data = message(f"backlog {i}", f"message {i}")
            r = c.send_message("a@example.com", [f"rcpt{i}@example.com"], data)
            assert r.code == 250, r
            sent[f"<backlog.{i}@test.example>"] = data
    relay.wait_for_log(lambda r: r.get("msg") == "delivery" and r.get("status") == "deferred", 15,
                       "a deferral while the upstream is down")
    time.sleep(2.0)
    assert len(relay.queued_ids()) == 20
    up.start()  # same port
    up.wait_for_messages(20, timeout=30, settle=2.5)
    counts = up.count_by_message_id()
    assert set(counts) == set(sent), f"missing {set(sent) - set(counts)}, unexpected {set(counts) - set(sent)}"
    dups = {k: v for k, v in counts.items() if v != 1}
    assert not dups, f"delivered more than once: {dups}"
    for m in up.snapshot():
        assert_relayed_intact(m, sent[m.message_id])
    deadline = time.monotonic() + 10
    while relay.queued_ids() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not relay.queued_ids(), f"still queued after delivery: {relay.queued_ids()}"


# -- 8. the retry schedule survives a restart -----------------------------------------------------------

def test_restart_mid_backoff_keeps_the_schedule(relay_factory, upstream_factory):
    """451 at t0 with retry.first 10s (jitter 0); relayd is restarted at ~t0+4. The retry must come
    at ~t0+10: not at the restart (forgotten schedule), not at ~restart+10 (backoff restarted)."""
    first = 10.0
    up = upstream_factory(tls="none")
    up.faults.mail.append("451 4.3.0 try again later")
    relay = relay_factory(up.relay_config(retry={"first": "10s", "max": "10s", "multiplier": 1, "jitter": 0}))
    sent = message("restart mid backoff", "body")
    qid = submit(relay, "a@example.com", ["b@example.com"], sent)
    up.wait_for(lambda: up.commands("MAIL"), 15, "the first MAIL")
    t0 = up.commands("MAIL")[0].at
    wait_delivery(relay, qid, DEFERRED)
    time.sleep(max(0.0, t0 + 4.0 - time.monotonic()))
    assert relay.stop() == 0, "relayd should exit 0 on SIGTERM"
    assert qid in relay.queued_ids()
    relay.start()
    restarted = time.monotonic()

    [got] = up.wait_for_messages(1, timeout=first + 15)
    mails = up.commands("MAIL")
    assert len(mails) == 2, f"expected exactly one retry: {up.transcript()}"
    retry_at = mails[1].at - t0
    print(f"restart at t0+{restarted - t0:.1f}s, retry at t0+{retry_at:.1f}s")
    assert retry_at >= first - 0.5, f"retried at t0+{retry_at:.1f}s, before its time (t0+{first:.0f}s)"
    assert retry_at <= first + 3.0, (f"retried at t0+{retry_at:.1f}s: the schedule (t0+{first:.0f}s) was not kept "
                                     f"across the restart at t0+{restarted - t0:.1f}s")
    assert_relayed_intact(got, sent)
    wait_delivery(relay, qid, SENT)
    wait_gone_from_queue(relay, qid)


def test_unreachable_primary_falls_back_to_the_next_upstream(relay_factory, upstream_factory, test_ca, tmp_path):
    """upstreams: the primary is down; the fallback (its own login, set through RELAY_UPSTREAMS_1_*) gets the
    mail, and the log names the fallback as the relay."""
    fallback = upstream_factory(tls="starttls", cert=test_ca.good, auth=(USER, PASSWORD))
    down_port = free_port("127.0.0.1")  # nothing listens there: the primary is down
    secret = tmp_path / "fallback-password"
    secret.write_text(PASSWORD + "\n")
    relay = relay_factory(
        {"upstream": {"host": "127.0.0.1", "port": down_port, "tls": "none", "connect_timeout": "5s"}},
        env={
            "RELAY_UPSTREAMS_1_HOST": fallback.host,
            "RELAY_UPSTREAMS_1_PORT": str(fallback.port),
            "RELAY_UPSTREAMS_1_TLS": "starttls",
            "RELAY_UPSTREAMS_1_CA_FILE": str(test_ca.ca.ca_cert),
            "RELAY_UPSTREAMS_1_USERNAME": USER,
            "RELAY_UPSTREAMS_1_PASSWORD_FILE": str(secret),
        },
    )
    sent = message("fallback", "via the second upstream")
    qid = submit(relay, "a@example.com", ["b@example.com"], sent)
    [got] = fallback.wait_for_messages(1, timeout=30)
    assert got.tls and got.login == USER
    assert_relayed_intact(got, sent)
    rec = wait_delivery(relay, qid, {"sent"})
    assert rec.get("relay", "").endswith(f":{fallback.port}"), record_text(rec)
    assert relay.wait_for_log(
        lambda r: r.get("msg") == "cannot use upstream" and str(down_port) in r.get("error", ""), 5,
        "a warning about the unreachable primary")
    assert_no_secret_leak(relay)
