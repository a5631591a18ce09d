"""Real SMTP clients deliver through relayd; each outbox file is the message byte for byte.

The outbox file must be the Received: header field(s) relayd prepends, followed by exactly the
bytes the client sent after dot-unstuffing. For each client the expected bytes follow from what
we hand it and its documented transformations (e.g. swaks and msmtp turn LF into CRLF).
"""

from __future__ import annotations

import re
import shutil
import smtplib
import subprocess
import textwrap
import threading
from pathlib import Path

import pytest

from relayd_harness import read_outbox_message


def tool(name: str) -> str:
    path = shutil.which(name) or (f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None)
    if not path:
        pytest.fail(f"{name} is not installed (scripts/test installs it)", pytrace=False)
    return path


def run(argv: list[str], *, timeout: float = 60, **kw) -> subprocess.CompletedProcess:
    p = subprocess.run(argv, capture_output=True, timeout=timeout, **kw)
    assert p.returncode == 0, (
        f"{argv[0]} exited {p.returncode}\nstdout: {p.stdout.decode(errors='replace')[-3000:]}\n"
        f"stderr: {p.stderr.decode(errors='replace')[-3000:]}"
    )
    return p


def only_message(relay) -> bytes:
    [path] = relay.wait_for_outbox(1)
    received, msg = read_outbox_message(path)
    assert any(b"relay.test" in r for r in received), f"Received: should name relayd's hostname: {received!r}"
    return msg


def test_outbox_only_ever_shows_complete_eml_files(relay):
    """Atomic writes: a reader polling the outbox while mail arrives never sees a partial .eml file,
    and nothing but *.eml files (a hidden staging folder is fine) is left in it."""
    seen: dict[str, set[bytes]] = {}
    done = threading.Event()

    def watch():
        while not done.is_set():
            for p in relay.outbox_files():
                try:
                    seen.setdefault(p.name, set()).add(p.read_bytes())
                except FileNotFoundError:
                    pass

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        with smtplib.SMTP(relay.host, relay.port, timeout=30) as s:
            for i in range(20):
                body = f"Subject: atomic {i}\r\n\r\n".encode() + (f"line {i} ".encode() * 10 + b"\r\n") * 4000
                s.sendmail("a@example.com", ["b@example.com"], body)
        files = relay.wait_for_outbox(20)
    finally:
        done.set()
        watcher.join(10)
    for p in files:
        final = p.read_bytes()
        partial = [len(v) for v in seen.get(p.name, set()) if v != final]
        assert not partial, f"{p.name}: a reader saw {partial} bytes of {len(final)}"
    for entry in relay.outbox.iterdir():
        if entry.is_dir():
            assert entry.name.startswith("."), f"unexpected folder in the outbox: {entry.name}"
            assert not list(entry.iterdir()), f"leftovers in {entry}: {list(entry.iterdir())}"
        else:
            assert entry.suffix == ".eml", f"unexpected file in the outbox: {entry.name}"


def test_swaks(relay, tmp_path):
    # swaks turns LF into CRLF and appends one CRLF when the data does not end with a newline.
    # No %TOKENS% and no backslashes: swaks would expand them.
    text = (
        "From: <swaks@example.com>\nTo: <someone@example.com>\nSubject: swaks delivery\n"
        "Date: Mon, 01 Jan 2024 00:00:00 +0000\nMessage-ID: <swaks-1@example.com>\n\n"
        "Hello from swaks.\n.a line starting with a dot\n..two dots\n\nlast line"
    )
    data = tmp_path / "swaks.txt"
    data.write_text(text)
    run([tool("swaks"), "--server", f"{relay.host}:{relay.port}", "--from", "swaks@example.com",
         "--to", "someone@example.com", "--data", f"@{data}"])
    expected = text.replace("\n", "\r\n").encode() + b"\r\n"
    assert only_message(relay) == expected


def test_python_smtplib_with_dots_and_8bit_utf8(relay):
    body = (
        "From: <py@example.com>\r\nTo: <someone@example.com>\r\nSubject: smtplib\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        ".leading dot\r\n..two leading dots\r\n.\r\n"
        "Grüße aus Köln — 日本語 — emoji 🎉\r\n"
        "last line\r\n"
    ).encode("utf-8")
    with smtplib.SMTP(relay.host, relay.port, local_hostname="client.example", timeout=15) as s:
        s.ehlo()
        assert s.has_extn("8bitmime")
        refused = s.sendmail("py@example.com", ["someone@example.com"], body, mail_options=["BODY=8BITMIME"])
        assert refused == {}
    assert only_message(relay) == body


def test_python_smtplib_smtputf8_addresses(relay):
    body = "From: <jörg@example.com>\r\nTo: <zoë@example.com>\r\nSubject: utf8\r\n\r\nhallo\r\n".encode()
    with smtplib.SMTP(relay.host, relay.port, timeout=15) as s:
        s.ehlo()
        assert s.has_extn("smtputf8")
        s.sendmail("jörg@example.com", ["zoë@example.com"], body, mail_options=["SMTPUTF8", "BODY=8BITMIME"])
    assert only_message(relay) == body


def test_curl(relay, tmp_path):
    # curl dot-stuffs but does not touch line endings: give it CRLF.
    content = (
        b"From: <curl@example.com>\r\nTo: <someone@example.com>\r\nSubject: curl delivery\r\n\r\n"
        b"Hello from curl.\r\n.a dotted line\r\n.\r\nend\r\n"
    )
    upload = tmp_path / "curl.eml"
    upload.write_bytes(content)
    run([tool("curl"), "-sS", "--max-time", "30", f"smtp://{relay.host}:{relay.port}",
         "--mail-from", "curl@example.com", "--mail-rcpt", "someone@example.com", "--upload-file", str(upload)])
    assert only_message(relay) == content


def test_msmtp(relay, tmp_path):
    rc = tmp_path / "msmtprc"
    rc.write_text(textwrap.dedent(f"""\
        defaults
        auth off
        tls off
        account default
        host {relay.host}
        port {relay.port}
        from msmtp@example.com
        """))
    rc.chmod(0o600)
    # Date and Message-ID given so msmtp adds no header of its own; it sends LF as CRLF.
    text = (
        "From: <msmtp@example.com>\nTo: <someone@example.com>\nSubject: msmtp delivery\n"
        "Date: Mon, 01 Jan 2024 00:00:00 +0000\nMessage-ID: <msmtp-1@example.com>\n\n"
        "Hello from msmtp.\n.dotted\nend\n"
    )
    run([tool("msmtp"), "-C", str(rc), "someone@example.com"], input=text.encode())
    assert only_message(relay) == text.replace("\n", "\r\n").encode()


RUBY_MASTODON = r'''
require "mail"
port = Integer(ARGV[0]); outdir = ARGV[1]; count = Integer(ARGV[2])
# As Mastodon's config/environments/production.rb sets ActionMailer's smtp_settings with
# SMTP_AUTH_METHOD=none and SMTP_ENABLE_STARTTLS=never (one connection per message).
Mail.defaults do
  delivery_method :smtp, {
    address: "127.0.0.1", port: port, domain: "mastodon.example",
    user_name: nil, password: nil, authentication: nil,
    enable_starttls: false, enable_starttls_auto: false,
    openssl_verify_mode: "none", tls: false, ssl: false,
    open_timeout: 5, read_timeout: 20,
  }
end
count.times do |i|
  mail = Mail.new do
    from "notifications@mastodon.example"
    to "someone@example.com"
    subject "Mastodon notification #{i} — Ünïcode"
    text_part do
      content_type "text/plain; charset=UTF-8"
      body "Hello #{i} from Mastodon — ünïcödé\n.leading dot\n"
    end
    html_part do
      content_type "text/html; charset=UTF-8"
      body "<p>Hello #{i} from Mastodon</p>"
    end
  end
  mail.deliver!
  File.binwrite(File.join(outdir, "#{i}.eml"), mail.encoded)
end
'''


def test_ruby_mail_gem_as_mastodon_uses_it(relay, tmp_path):
    sent_dir = tmp_path / "sent"
    sent_dir.mkdir()
    run([tool("ruby"), "-e", RUBY_MASTODON, str(relay.port), str(sent_dir), "3"])
    files = relay.wait_for_outbox(3)
    got = sorted(read_outbox_message(p)[1] for p in files)
    expected = sorted(p.read_bytes() for p in sent_dir.iterdir())
    assert got == expected


def test_postfix_smtp_source_5000_messages_from_20_sessions(relay):
    run([tool("smtp-source"), "-s", "20", "-m", "5000", "-l", "1024",
             "-f", "a@example.com", "-t", "b@example.com", f"{relay.host}:{relay.port}"], timeout=240)
    # the contract says ~1 s from 250 to the outbox; allow a slow machine 15 s for the backlog
    files = relay.wait_for_outbox(5000, timeout=15, settle=2.0)
    ids = [f.stem for f in files]
    assert len(set(ids)) == 5000, "queue ids must be distinct"
    message_ids = []
    for f in files:
        _, msg = read_outbox_message(f)
        m = re.search(rb"^Message-Id: (<[^>]+>)\r$", msg, re.M | re.I)
        assert m, f"{f.name} lost its Message-Id: {msg[:200]!r}"
        assert len(msg) >= 1024, f"{f.name} is truncated ({len(msg)} bytes)"
        message_ids.append(m.group(1))
    assert len(set(message_ids)) == 5000, "a message was delivered twice (duplicate Message-Id)"
