"""Inbound TLS (docs/configuration.md, `inbound.tls`): STARTTLS (RFC 3207) and implicit-TLS listeners
(RFC 8314) on relayd's own SMTP side, with a certificate from the test CA, checked with real clients (Python's
smtplib and ssl, swaks, Ruby's Mail gem with `enable_starttls_auto` and certificate verification), the
plaintext-injection defence, `required`, and a certificate reload that leaves a session in progress alone.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import time

import pytest

from relayd_harness import free_port, read_outbox_message, to_yaml
from smtp_wire import SMTPWire, dot_stuff, message

SIGNAL_ONLY = {"reload": {"watch_interval": "0s"}}


def tls_relay(relay_factory, cert, *, required: bool = False, smtps: bool = False, extra: dict | None = None):
    """relayd with `inbound.tls` from `cert` (copied, so a test may replace the files); relay.smtps_port is
    the implicit-TLS listener's port when `smtps`."""
    overrides: dict = {"inbound": {"tls": {"certificate_file": str(cert.chain), "key_file": str(cert.key),
                                           "required": required}}}
    port = None
    if smtps:
        port = free_port()
        overrides["listen"] = {"smtps": [f"127.0.0.1:{port}"]}
    relay = relay_factory({**overrides, **SIGNAL_ONLY, **(extra or {})}, start=False)
    chain, key = relay.workdir / "tls-chain.pem", relay.workdir / "tls-key.pem"
    shutil.copy(cert.chain, chain)
    shutil.copy(cert.key, key)
    relay.config["inbound"]["tls"].update(certificate_file=str(chain), key_file=str(key))
    relay.start()
    relay.smtps_port = port
    relay.tls_files = (chain, key)
    return relay


def client_context(test_ca) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(test_ca.ca.ca_cert))
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def received_header(relay) -> str:
    """The Received: header relayd wrote on the one message in its outbox."""
    [received], _ = read_outbox_message(relay.wait_for_outbox(1)[0])
    return received.decode()


# -- STARTTLS with real clients --------------------------------------------------------------------

def test_smtplib_starttls_verifies_the_certificate_and_delivers(relay_factory, test_ca):
    relay = tls_relay(relay_factory, test_ca.good)
    with smtplib.SMTP(relay.host, relay.port, timeout=15) as s:
        s.ehlo("client.example")
        assert s.has_extn("starttls")
        code, text = s.starttls(context=client_context(test_ca))
        assert (code, text) == (220, b"2.0.0 Ready to start TLS")
        assert s.sock.version() in ("TLSv1.2", "TLSv1.3")
        s.ehlo("client.example")
        assert not s.has_extn("starttls"), "STARTTLS is not offered again over TLS"
        s.sendmail("alice@example.org", ["bob@example.net"], message("over tls", "secret body\r\n", to="bob@example.net"))
    assert "with ESMTPS id" in received_header(relay)


def test_swaks_tls_with_verification(relay_factory, test_ca):
    relay = tls_relay(relay_factory, test_ca.good)
    swaks = shutil.which("swaks")
    assert swaks, "swaks is not installed (scripts/test installs it)"
    p = subprocess.run([swaks, "--server", f"{relay.host}:{relay.port}", "--tls", "--tls-verify",
                        "--tls-ca-path", str(test_ca.ca.ca_cert), "--to", "bob@example.net",
                        "--from", "alice@example.org"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    assert "TLS started" in p.stdout, p.stdout[-2000:]
    relay.wait_for_outbox(1)


RUBY_STARTTLS = r'''
require "mail"
port, ca = ARGV
Mail.defaults do
  delivery_method :smtp, address: "127.0.0.1", port: Integer(port), enable_starttls_auto: true,
                  openssl_verify_mode: "peer", ca_file: ca, read_timeout: 20
end
Mail.new do
  from "notifications@mastodon.example"
  to "reader@example.org"
  subject "over starttls"
  body "hello\n"
end.deliver!
'''


def test_ruby_mail_starttls_auto_with_the_test_ca(relay_factory, test_ca):
    """What Mastodon does with SMTP_ENABLE_STARTTLS=auto and SMTP_CA_FILE: STARTTLS, certificate verified."""
    ruby = shutil.which("ruby")
    assert ruby, "ruby is not installed (scripts/test installs ruby-mail)"
    relay = tls_relay(relay_factory, test_ca.good)
    p = subprocess.run([ruby, "-e", RUBY_STARTTLS, str(relay.port), str(test_ca.ca.ca_cert)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr[-2000:]
    assert "with ESMTPS" in received_header(relay)

    # The same client refuses a certificate its CA file does not vouch for: verification really happens.
    other_ca = subprocess.run([ruby, "-e", RUBY_STARTTLS, str(relay.port), "/etc/ssl/certs/ca-certificates.crt"],
                              capture_output=True, text=True, timeout=60)
    assert other_ca.returncode != 0 and "certificate verify failed" in other_ca.stderr, other_ca.stderr[-1000:]


# -- protocol rules ----------------------------------------------------------------------------------

def test_plaintext_pipelined_after_starttls_is_discarded(relay_factory, test_ca):
    """A MAIL sent in the same packet as STARTTLS (before the handshake) must not count as if it came over TLS:
    after the handshake and a new EHLO, RCPT finds no transaction."""
    relay = tls_relay(relay_factory, test_ca.good)
    with socket.create_connection((relay.host, relay.port), timeout=15) as raw:
        wire = raw.makefile("rb")
        assert wire.readline().startswith(b"220")
        raw.sendall(b"EHLO client.example\r\n")
        while not (line := wire.readline()).startswith(b"250 "):
            assert line.startswith(b"250-"), line
        raw.sendall(b"STARTTLS\r\nMAIL FROM:<injected@example.org>\r\n")
        assert wire.readline() == b"220 2.0.0 Ready to start TLS\r\n"
        tls = client_context(test_ca).wrap_socket(raw, server_hostname="localhost")
        tls_wire = tls.makefile("rb")
        tls.sendall(b"EHLO client.example\r\n")
        lines = []
        while not (line := tls_wire.readline()).startswith(b"250 "):
            lines.append(line)
        assert lines[0].startswith(b"250-"), f"the injected MAIL was answered: {lines}"
        tls.sendall(b"RCPT TO:<bob@example.net>\r\n")
        assert tls_wire.readline().startswith(b"503 5.5.1"), "no MAIL may have been taken from the plain text"
        tls.sendall(b"QUIT\r\n")
        assert tls_wire.readline().startswith(b"221")


def test_starttls_rules_and_required_tls(relay_factory, test_ca):
    relay = tls_relay(relay_factory, test_ca.good, required=True)
    with SMTPWire(relay.host, relay.port) as c:
        ehlo = c.start()
        assert "STARTTLS" in ehlo.keywords()
        assert c.cmd("STARTTLS now").code == 501
        mail = c.cmd("MAIL FROM:<a@example.org>")
        assert (mail.code, mail.enhanced) == (530, "5.7.0"), mail
    with smtplib.SMTP(relay.host, relay.port, timeout=15) as s:
        s.starttls(context=client_context(test_ca))
        s.ehlo("client.example")
        assert s.docmd("STARTTLS")[0] == 503, "STARTTLS twice"
        s.sendmail("alice@example.org", ["bob@example.net"], message("required", "hi\r\n", to="bob@example.net"))
    relay.wait_for_outbox(1)


def test_without_a_certificate_starttls_is_neither_offered_nor_accepted(relay):
    with SMTPWire(relay.host, relay.port) as c:
        assert "STARTTLS" not in c.start().keywords()
        assert c.cmd("STARTTLS").code == 502


def test_a_failed_handshake_ends_only_that_session(relay_factory, test_ca):
    relay = tls_relay(relay_factory, test_ca.good)
    with socket.create_connection((relay.host, relay.port), timeout=15) as raw:
        wire = raw.makefile("rb")
        wire.readline()
        raw.sendall(b"EHLO x\r\n")
        while not wire.readline().startswith(b"250 "):
            pass
        raw.sendall(b"STARTTLS\r\n")
        assert wire.readline().startswith(b"220")
        raw.sendall(b"this is not a TLS ClientHello\r\n" * 4)
        raw.settimeout(15)
        rest = b""
        while chunk := raw.recv(4096):
            rest += chunk
        assert b"250" not in rest, "no SMTP reply over a failed handshake"
    relay.wait_for_log(lambda r: r.get("msg") == "TLS handshake failed", 10)
    with smtplib.SMTP(relay.host, relay.port, timeout=15) as s:  # the server goes on
        s.starttls(context=client_context(test_ca))
        s.sendmail("alice@example.org", ["bob@example.net"], message("after", "hi\r\n", to="bob@example.net"))


@pytest.mark.parametrize("what, configure", [
    ("TLS 1.1", lambda ctx: (ctx.set_ciphers("DEFAULT:@SECLEVEL=0"),
                             setattr(ctx, "minimum_version", ssl.TLSVersion.TLSv1),
                             setattr(ctx, "maximum_version", ssl.TLSVersion.TLSv1_1))),
    ("a CBC suite over TLS 1.2 (OpenSSL's default list would take it)", lambda ctx: (
        ctx.set_ciphers("ECDHE-ECDSA-AES128-SHA"), setattr(ctx, "maximum_version", ssl.TLSVersion.TLSv1_2))),
])
def test_old_protocols_and_weak_suites_are_refused(relay_factory, test_ca, what, configure):
    """TLS 1.2 is the minimum and TLS 1.2 suites are ECDHE with AES-GCM or ChaCha20-Poly1305 only."""
    relay = tls_relay(relay_factory, test_ca.good)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    configure(ctx)
    with smtplib.SMTP(relay.host, relay.port, timeout=15) as s:
        with pytest.raises((ssl.SSLError, smtplib.SMTPServerDisconnected, ConnectionResetError)):
            s.starttls(context=ctx)
    relay.wait_for_log(lambda r: r.get("msg") == "TLS handshake failed", 10, f"the refusal of {what}")


# -- implicit TLS --------------------------------------------------------------------------------------

def test_the_implicit_tls_listener_speaks_tls_from_the_first_byte(relay_factory, test_ca):
    relay = tls_relay(relay_factory, test_ca.good, smtps=True)
    with smtplib.SMTP_SSL(relay.host, relay.smtps_port, context=client_context(test_ca), timeout=15) as s:
        s.ehlo("client.example")
        assert not s.has_extn("starttls")
        s.sendmail("alice@example.org", ["bob@example.net"], message("smtps", "hi\r\n", to="bob@example.net"))
    assert "with ESMTPS" in received_header(relay)
    with socket.create_connection((relay.host, relay.smtps_port), timeout=15) as plain:
        plain.sendall(b"EHLO plain\r\n")  # a plain-text client gets no SMTP, only a closed connection
        plain.settimeout(15)
        data = b""
        while chunk := plain.recv(4096):
            data += chunk
        assert not data.startswith(b"220"), data


# -- reload ---------------------------------------------------------------------------------------------

def peer_names(relay, test_ca) -> list[str]:
    ctx = ssl.create_default_context(cafile=str(test_ca.ca.ca_cert))
    ctx.check_hostname = False
    with smtplib.SMTP(relay.host, relay.port, timeout=15) as s:
        s.starttls(context=ctx)
        cert = s.sock.getpeercert()
    return [value for kind, value in cert.get("subjectAltName", ()) if kind == "DNS"]


def test_a_new_certificate_is_used_by_new_sessions_and_a_session_in_progress_goes_on(relay_factory, test_ca):
    relay = tls_relay(relay_factory, test_ca.good)
    assert peer_names(relay, test_ca) == ["localhost"]
    chain, key = relay.tls_files
    with smtplib.SMTP(relay.host, relay.port, timeout=15) as open_session:
        open_session.starttls(context=client_context(test_ca))
        open_session.ehlo("client.example")
        assert open_session.docmd("MAIL FROM:<a@example.org>")[0] == 250

        shutil.copy(test_ca.other.chain, chain)
        shutil.copy(test_ca.other.key, key)
        os.kill(relay.proc.pid, signal.SIGHUP)
        record = relay.wait_for_log(lambda r: r.get("msg") == "configuration reloaded", 15)
        assert set(record["changed"].split(",")) == {"inbound.tls.certificate_file", "inbound.tls.key_file"}, record

        assert open_session.docmd("RCPT TO:<b@example.net>")[0] == 250
        assert open_session.docmd("DATA")[0] == 354
        open_session.send(dot_stuff(message("across", "hi\r\n", to="b@example.net")) + b".\r\n")
        assert open_session.getreply()[0] == 250
    assert peer_names(relay, test_ca) == ["other.example"]


def test_a_key_that_does_not_match_is_refused_and_the_old_certificate_stays(relay_factory, test_ca):
    relay = tls_relay(relay_factory, test_ca.good)
    chain, key = relay.tls_files
    shutil.copy(test_ca.other.key, key)  # the certificate stays: the pair no longer matches
    os.kill(relay.proc.pid, signal.SIGHUP)
    record = relay.wait_for_log(lambda r: r.get("msg", "").startswith("configuration reload refused"), 15)
    assert "inbound.tls" in record["error"] and "does not match" in record["error"], record
    assert peer_names(relay, test_ca) == ["localhost"]
