"""Inbound SMTP AUTH, sender policy and rate limits (docs/configuration.md, `inbound.auth`,
`inbound.allowed_sender_domains`, `inbound.rate`), against a real relayd with real clients.

The users file's hashes are made here with Python's own scrypt (hashlib.scrypt) in relayd's `$scrypt$` format,
so relayd's verification is checked against an independent implementation.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import signal
import smtplib
import ssl
import subprocess
import time

import pytest

from relayd_harness import read_outbox_message
from smtp_wire import SMTPWire, message

SIGNAL_ONLY = {"reload": {"watch_interval": "0s"}}
ALICE, ALICE_PASSWORD = "alice", "correct horse battery staple"
BOB, BOB_PASSWORD = "bob@example.org", "pässwörd with spaces"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


def scrypt_hash(password: str, log_n: int = 10) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=1 << log_n, r=8, p=1, dklen=32)
    return f"$scrypt$ln={log_n},r=8,p=1${b64(salt)}${b64(digest)}"


def users_text(extra: str = "") -> str:
    return (
        "# relayd users: name:hash[:sender domains]\n"
        f"{ALICE}:{scrypt_hash(ALICE_PASSWORD)}\n"
        f"{BOB}:{scrypt_hash(BOB_PASSWORD)}:example.org, Example.NET\n"
        + extra
    )


def auth_relay(relay_factory, test_ca, tmp_path, *, tls: bool = True, required: bool = False,
               loopback: bool = False, inbound: dict | None = None, extra: dict | None = None):
    users = tmp_path / "users"
    users.write_text(users_text())
    conf: dict = {"auth": {"users_file": str(users), "required": required, "allow_plaintext_loopback": loopback}}
    if tls:
        conf["tls"] = {"certificate_file": str(test_ca.good.chain), "key_file": str(test_ca.good.key)}
    conf.update(inbound or {})
    relay = relay_factory({"inbound": conf, **SIGNAL_ONLY, **(extra or {})})
    relay.users_file = users
    return relay


def context(test_ca) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(test_ca.ca.ca_cert))


def tls_client(relay, test_ca, source: str | None = None) -> smtplib.SMTP:
    s = smtplib.SMTP(relay.host, relay.port, timeout=30, source_address=(source, 0) if source else None)
    s.starttls(context=context(test_ca))
    s.ehlo("client.example")
    return s


def login_plain(s: smtplib.SMTP, user: str, password: str) -> tuple[int, bytes]:
    return s.docmd("AUTH", "PLAIN " + base64.b64encode(f"\0{user}\0{password}".encode()).decode())


def received(relay) -> str:
    [header], _ = read_outbox_message(relay.wait_for_outbox(1)[0])
    return header.decode()


# -- AUTH --------------------------------------------------------------------------------------------

def test_auth_is_offered_only_over_tls(relay_factory, test_ca, tmp_path):
    relay = auth_relay(relay_factory, test_ca, tmp_path)
    with SMTPWire(relay.host, relay.port) as c:
        assert not any(k.startswith("AUTH") for k in c.start().keywords()), "no AUTH in plain text"
        r = c.cmd("AUTH PLAIN " + base64.b64encode(f"\0{ALICE}\0{ALICE_PASSWORD}".encode()).decode())
        assert (r.code, r.enhanced) == (538, "5.7.11"), r
    with tls_client(relay, test_ca) as s:
        assert s.has_extn("auth") and set(s.esmtp_features["auth"].split()) == {"PLAIN", "LOGIN"}


def test_plain_and_login_over_starttls_deliver_with_esmtpsa(relay_factory, test_ca, tmp_path):
    relay = auth_relay(relay_factory, test_ca, tmp_path)
    with tls_client(relay, test_ca) as s:
        s.login(ALICE, ALICE_PASSWORD)  # smtplib prefers PLAIN
        s.sendmail("alice@example.com", ["r@example.net"], message("plain", "hi\r\n", to="r@example.net"))
    assert "with ESMTPSA id" in received(relay)
    accepted = relay.wait_for_log(lambda r: r.get("msg") == "accepted", 10)
    assert accepted.get("user") == ALICE, accepted
    with tls_client(relay, test_ca) as s:
        s.user, s.password = ALICE, ALICE_PASSWORD
        code, text = s.auth("LOGIN", s.auth_login)
        assert (code, text) == (235, b"2.7.0 Authentication successful")
    with tls_client(relay, test_ca) as s:  # a UTF-8 password (smtplib's login() only sends ASCII ones)
        assert login_plain(s, BOB, BOB_PASSWORD) == (235, b"2.7.0 Authentication successful")
    log = relay.log_text()
    assert ALICE_PASSWORD not in log and BOB_PASSWORD not in log


def test_a_wrong_password_gets_535_and_the_next_try_waits(relay_factory, test_ca, tmp_path):
    """One AUTH PLAIN per step (smtplib's login() would try every mechanism in turn)."""
    relay = auth_relay(relay_factory, test_ca, tmp_path)

    def timed_login(s, password: str) -> tuple[int, bytes, float]:
        started = time.monotonic()
        code, text = login_plain(s, ALICE, password)
        return code, text, time.monotonic() - started

    with tls_client(relay, test_ca) as s:
        code, text, took = timed_login(s, "wrong password")
        assert (code, text) == (535, b"5.7.8 Error: authentication failed") and took < 0.9
    with tls_client(relay, test_ca) as s:  # a new connection from the same address: still slowed down
        code, _, took = timed_login(s, "wrong again")
        assert code == 535 and took >= 0.9, "the second failure from this address is answered after 1 s"
        code, _, took = timed_login(s, "and again")
        assert code == 535 and took >= 1.9, "then 2 s"
    with tls_client(relay, test_ca) as s:
        code, _, took = timed_login(s, ALICE_PASSWORD)
        assert code == 235 and took >= 3.9, "the right password is answered after the delay too (4 s), and resets it"
    with tls_client(relay, test_ca) as s:
        code, _, took = timed_login(s, ALICE_PASSWORD)
        assert code == 235 and took < 0.9
    assert "wrong password" not in relay.log_text() and ALICE_PASSWORD not in relay.log_text()


def test_required_auth_and_relaying_from_outside_the_allowed_networks(relay_factory, test_ca, tmp_path):
    relay = auth_relay(relay_factory, test_ca, tmp_path, required=True,
                       inbound={"allowed_networks": ["127.0.0.1/32"]})
    with tls_client(relay, test_ca) as s:
        code, text = s.docmd("MAIL FROM:<alice@example.com>")
        assert (code, text[:5]) == (530, b"5.7.0"), (code, text)
    with tls_client(relay, test_ca, source="127.0.0.2") as outsider:
        outsider.login(ALICE, ALICE_PASSWORD)
        outsider.sendmail("alice@example.com", ["r@example.net"], message("from outside", "hi\r\n", to="r@example.net"))
    relay.wait_for_outbox(1)


def test_unauthenticated_clients_outside_the_networks_may_not_relay(relay_factory, test_ca, tmp_path):
    relay = auth_relay(relay_factory, test_ca, tmp_path, inbound={"allowed_networks": ["127.0.0.1/32"]})
    with tls_client(relay, test_ca, source="127.0.0.2") as outsider:
        assert outsider.docmd("MAIL FROM:<alice@example.com>")[0] == 250
        assert outsider.docmd("RCPT TO:<r@example.net>")[0] == 554


def test_plaintext_auth_on_loopback_when_allowed(relay_factory, test_ca, tmp_path):
    relay = auth_relay(relay_factory, test_ca, tmp_path, tls=False, loopback=True)
    with smtplib.SMTP(relay.host, relay.port, timeout=30) as s:
        s.ehlo("client.example")
        assert not s.has_extn("starttls") and s.has_extn("auth")
        s.login(ALICE, ALICE_PASSWORD)
        s.sendmail("alice@example.com", ["r@example.net"], message("loopback", "hi\r\n", to="r@example.net"))
    assert "with ESMTPA id" in received(relay)


def test_swaks_auth_plain_over_tls(relay_factory, test_ca, tmp_path):
    relay = auth_relay(relay_factory, test_ca, tmp_path)
    swaks = shutil.which("swaks")
    assert swaks, "swaks is not installed (scripts/test installs it)"
    p = subprocess.run([swaks, "--server", f"{relay.host}:{relay.port}", "--tls", "--tls-verify",
                        "--tls-ca-path", str(test_ca.ca.ca_cert), "--auth", "PLAIN", "--auth-user", ALICE,
                        "--auth-password", ALICE_PASSWORD, "--to", "r@example.net", "--from", "alice@example.com"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    relay.wait_for_outbox(1)


def test_curl_starttls_and_auth(relay_factory, test_ca, tmp_path):
    relay = auth_relay(relay_factory, test_ca, tmp_path, required=True)
    curl = shutil.which("curl")
    assert curl, "curl is not installed (scripts/test installs it)"
    mail = tmp_path / "mail.txt"
    mail.write_bytes(message("curl", "hi\r\n", to="r@example.net"))
    p = subprocess.run([curl, "--silent", "--show-error", f"smtp://{relay.host}:{relay.port}", "--ssl-reqd",
                        "--cacert", str(test_ca.ca.ca_cert), "--user", f"{ALICE}:{ALICE_PASSWORD}",
                        "--mail-from", "alice@example.com", "--mail-rcpt", "r@example.net", "--upload-file", str(mail)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr[-2000:]
    assert "with ESMTPSA" in received(relay)


def test_msmtp_starttls_and_auth(relay_factory, test_ca, tmp_path):
    relay = auth_relay(relay_factory, test_ca, tmp_path, required=True)
    msmtp = shutil.which("msmtp")
    assert msmtp, "msmtp is not installed (scripts/test installs it)"
    p = subprocess.run([msmtp, f"--host={relay.host}", f"--port={relay.port}", "--tls=on", "--tls-starttls=on",
                        f"--tls-trust-file={test_ca.ca.ca_cert}", "--auth=plain", f"--user={ALICE}",
                        f"--passwordeval=printf '%s' '{ALICE_PASSWORD}'", "--from=alice@example.com",
                        "r@example.net"],
                       input=message("msmtp", "hi\r\n", to="r@example.net"), capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr.decode(errors="replace")[-2000:]
    assert "with ESMTPSA" in received(relay)


def test_a_user_added_to_the_users_file_can_log_in_after_a_reload(relay_factory, test_ca, tmp_path):
    relay = auth_relay(relay_factory, test_ca, tmp_path)
    with tls_client(relay, test_ca) as before:
        before.login(ALICE, ALICE_PASSWORD)
        relay.users_file.write_text(users_text(f"carol:{scrypt_hash('carol secret')}\n"))
        os.kill(relay.proc.pid, signal.SIGHUP)
        record = relay.wait_for_log(lambda r: r.get("msg") == "configuration reloaded", 15)
        assert record["changed"] == "inbound.auth.users_file", record
        before.sendmail("alice@example.com", ["r@example.net"], message("across", "hi\r\n", to="r@example.net"))
    with tls_client(relay, test_ca) as s:
        s.login("carol", "carol secret")


def test_a_broken_users_file_on_reload_is_refused(relay_factory, test_ca, tmp_path):
    relay = auth_relay(relay_factory, test_ca, tmp_path)
    relay.users_file.write_text(users_text("mallory:not-a-hash\n"))
    os.kill(relay.proc.pid, signal.SIGHUP)
    record = relay.wait_for_log(lambda r: r.get("msg", "").startswith("configuration reload refused"), 15)
    assert str(relay.users_file) in record["error"] and "line 4" in record["error"], record
    with tls_client(relay, test_ca) as s:
        s.login(ALICE, ALICE_PASSWORD)


# -- sender policy -------------------------------------------------------------------------------------

def test_sender_domains_globally_and_per_user(relay_factory, test_ca, tmp_path):
    relay = auth_relay(relay_factory, test_ca, tmp_path, inbound={"allowed_sender_domains": ["Example.COM"]})
    with tls_client(relay, test_ca) as s:
        code, text = s.docmd("MAIL FROM:<x@other.net>")
        assert (code, text[:5]) == (553, b"5.7.1"), (code, text)
        assert s.docmd("MAIL FROM:<x@EXAMPLE.com>")[0] == 250
        s.rset()
        assert s.docmd("MAIL FROM:<>")[0] == 250, "the null sender is always allowed"
    with tls_client(relay, test_ca) as s:
        assert login_plain(s, BOB, BOB_PASSWORD)[0] == 235  # bob's own domains replace the global list for him
        assert s.docmd("MAIL FROM:<bob@example.com>")[0] == 553
        assert s.docmd("MAIL FROM:<bob@example.net>")[0] == 250


# -- rate limits ---------------------------------------------------------------------------------------

def test_connection_and_message_rates_per_client(relay_factory):
    relay = relay_factory({"inbound": {"rate": {"connections_per_minute": 3, "messages_per_minute": 2}}})
    # 127.0.0.3: an address the harness's start-up check did not use.
    for _ in range(3):
        with SMTPWire(relay.host, relay.port, source="127.0.0.3") as c:
            assert c.greeting().code == 220
    with SMTPWire(relay.host, relay.port, source="127.0.0.3") as c:
        refused = c.greeting()
        assert (refused.code, refused.enhanced) == (421, "4.7.0"), refused
    with SMTPWire(relay.host, relay.port, source="127.0.0.2") as other:  # another address has its own allowance
        other.start()
        for i in range(2):
            assert other.send_message("a@example.org", ["r@example.net"], message(f"m{i}", "hi\r\n")).code == 250
        limited = other.cmd("MAIL FROM:<a@example.org>")
        assert (limited.code, limited.enhanced) == (450, "4.7.1"), limited
    assert relay.proc.poll() is None
