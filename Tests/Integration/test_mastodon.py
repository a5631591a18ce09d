"""Mastodon, as docs/mastodon.md tells operators to set it up, delivers through relayd to the upstream.

The SMTP_* lines are taken from the guide itself (its first ```sh block), turned into ActionMailer's
smtp_settings the way Mastodon's config/environments/production.rb does, and handed to Ruby's Mail gem,
which is what ActionMailer delivers with. Only the server and port are pointed at the test's relayd (the
guide's are the Kubernetes Service's). relayd relays to an independent upstream (aiosmtpd) that requires
STARTTLS and AUTH, as a provider does. If the guide changes its settings, this test follows them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from relayd_harness import read_outbox_message, relayctl_binary, split_received

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "mastodon.md"
USER, PASSWORD = "mastodon-relay@example.com", "provider key"

# production.rb's smtp_settings (Mastodon 4.x), fed from the environment. A port and server given as
# arguments stand in for the guide's Service address, which only resolves inside a cluster.
RUBY_ACTION_MAILER = r'''
require "mail"
port = Integer(ARGV[0]); server = ARGV[1]; outdir = ARGV[2]; count = Integer(ARGV[3])
enable_starttls = nil
enable_starttls_auto = nil
case ENV["SMTP_ENABLE_STARTTLS"]
when "always" then enable_starttls = true
when "never" then enable_starttls = false
when "auto" then enable_starttls_auto = true
else enable_starttls_auto = ENV["SMTP_ENABLE_STARTTLS_AUTO"] != "false"
end
present = ->(v) { v.nil? || v.empty? ? nil : v }
settings = {
  port: port,
  address: server,
  user_name: present.(ENV["SMTP_LOGIN"]),
  password: present.(ENV["SMTP_PASSWORD"]),
  domain: ENV["SMTP_DOMAIN"] || ENV["LOCAL_DOMAIN"],
  authentication: ENV["SMTP_AUTH_METHOD"] == "none" ? nil : (ENV["SMTP_AUTH_METHOD"] || :plain),
  ca_file: present.(ENV["SMTP_CA_FILE"]) || "/etc/ssl/certs/ca-certificates.crt",
  openssl_verify_mode: ENV["SMTP_OPENSSL_VERIFY_MODE"],
  enable_starttls: enable_starttls,
  enable_starttls_auto: enable_starttls_auto,
  tls: ENV["SMTP_TLS"] == "true",
  ssl: ENV["SMTP_SSL"] == "true",
  read_timeout: 20,
}
Mail.defaults { delivery_method :smtp, settings }
count.times do |i|
  mail = Mail.new do
    from ENV.fetch("SMTP_FROM_ADDRESS")
    to "reader#{i}@example.org"
    subject "New follower — #{i}"
    text_part do
      content_type "text/plain; charset=UTF-8"
      body "Ünïcode follower #{i}\n.leading dot\n"
    end
    html_part do
      content_type "text/html; charset=UTF-8"
      body "<p>follower #{i}</p>"
    end
  end
  mail.deliver!
  File.binwrite(File.join(outdir, "#{i}.eml"), mail.encoded)
end
'''


def guide_settings(block_index: int = 0) -> dict[str, str]:
    """The SMTP_* assignments of one of the guide's shell blocks that set them: 0 the plain relay, 1 TLS+AUTH."""
    blocks = [b for b in re.findall(r"```sh\n(.*?)```", GUIDE.read_text(), re.S) if "SMTP_SERVER=" in b]
    assert len(blocks) > block_index, f"{GUIDE} has {len(blocks)} ```sh blocks with SMTP_* settings"
    settings = {}
    for line in blocks[block_index].splitlines():
        m = re.match(r"\s*(SMTP_[A-Z_]+)=(\S*)", line)
        if m:
            settings[m.group(1)] = m.group(2)
    return settings


def test_the_guide_states_every_setting_mastodon_needs():
    settings = guide_settings()
    assert settings.keys() >= {"SMTP_SERVER", "SMTP_PORT", "SMTP_AUTH_METHOD", "SMTP_ENABLE_STARTTLS",
                               "SMTP_OPENSSL_VERIFY_MODE", "SMTP_FROM_ADDRESS"}, settings
    assert settings["SMTP_PORT"] == "25", "the Service's port"
    assert settings["SMTP_SERVER"].endswith(".svc.cluster.local"), settings["SMTP_SERVER"]


def test_mastodon_with_the_guides_settings_delivers_through_relayd_to_the_upstream(
        relay_factory, upstream_factory, test_ca, tmp_path):
    ruby = shutil.which("ruby")
    if not ruby:
        pytest.fail("ruby is not installed (scripts/test installs ruby-mail)", pytrace=False)
    up = upstream_factory(tls="starttls", cert=test_ca.good, auth=(USER, PASSWORD))
    relay = relay_factory(up.relay_config(ca_file=test_ca.ca.ca_cert, verify_certificate=True,
                                          username=USER, password=PASSWORD))
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", **guide_settings(), "LOCAL_DOMAIN": "example.social"}
    sent = tmp_path / "sent"
    sent.mkdir()
    p = subprocess.run([ruby, "-e", RUBY_ACTION_MAILER, str(relay.port), relay.host, str(sent), "3"],
                       env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]

    got = up.wait_for_messages(3, timeout=30, settle=1.0)
    assert len(got) == 3, "each mail arrives once"
    # What went on the wire: Net::SMTP sends every line end as CRLF, also the bare LFs the Mail gem leaves in
    # a quoted-printable part under a UTF-8 locale.
    expected = {f"reader{i}@example.org": re.sub(rb"(?<!\r)\n", b"\r\n", (sent / f"{i}.eml").read_bytes())
                for i in range(3)}
    for message in got:
        [rcpt] = message.rcpts
        assert message.mail_from == guide_settings()["SMTP_FROM_ADDRESS"]
        assert message.tls and message.login == USER, "relayd logs in to the upstream over TLS"
        received, rest = split_received(message.data)
        assert received, "relayd adds its Received: header"
        assert rest == expected.pop(rcpt), f"the mail to {rcpt} is not what Mastodon sent"
    assert not expected


def test_the_guide_states_the_tls_and_auth_settings():
    settings = guide_settings(1)
    assert settings["SMTP_ENABLE_STARTTLS"] == "always" and settings["SMTP_AUTH_METHOD"] == "plain"
    assert settings["SMTP_OPENSSL_VERIFY_MODE"] == "peer"
    assert settings.keys() >= {"SMTP_LOGIN", "SMTP_PASSWORD", "SMTP_CA_FILE", "SMTP_FROM_ADDRESS"}


def test_mastodon_with_tls_and_auth_delivers_through_a_relay_requiring_both(relay_factory, test_ca, tmp_path):
    """The guide's TLS+AUTH lines against relayd with inbound.tls and inbound.auth both required; the users
    file holds the guide's login with a hash made by relayctl hash-password, as the guide says."""
    ruby = shutil.which("ruby")
    if not ruby:
        pytest.fail("ruby is not installed (scripts/test installs ruby-mail)", pytrace=False)
    settings = guide_settings(1)
    hashed = subprocess.run([str(relayctl_binary()), "hash-password"], input=settings["SMTP_PASSWORD"],
                            capture_output=True, text=True, timeout=60)
    assert hashed.returncode == 0, hashed.stderr
    users = tmp_path / "users"
    users.write_text(f"{settings['SMTP_LOGIN']}:{hashed.stdout.strip()}\n")
    relay = relay_factory({"inbound": {
        "tls": {"certificate_file": str(test_ca.good.chain), "key_file": str(test_ca.good.key), "required": True},
        "auth": {"users_file": str(users), "required": True}}})
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", **settings, "LOCAL_DOMAIN": "example.social",
           "SMTP_CA_FILE": str(test_ca.ca.ca_cert)}
    sent = tmp_path / "sent"
    sent.mkdir()
    p = subprocess.run([ruby, "-e", RUBY_ACTION_MAILER, str(relay.port), relay.host, str(sent), "2"],
                       env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    files = relay.wait_for_outbox(2)
    for path in files:
        [received], _ = read_outbox_message(path)
        assert b"with ESMTPSA id" in received, received
    accepted = [r for r in relay.log_records() if r.get("msg") == "accepted"]
    assert [r.get("user") for r in accepted] == [settings["SMTP_LOGIN"]] * 2
