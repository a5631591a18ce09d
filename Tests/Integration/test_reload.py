"""Configuration reload without a restart (docs/configuration.md#reload): SIGHUP, and a change of the mounted
config or secret files the way Kubernetes makes it (a new `..2026_…` directory, then the `..data` symlink
swapped onto it), make relayd use new upstream credentials, CA file, relay policy and retry settings for new
sessions and connections, while SMTP sessions in progress go on and queued mail stays. A configuration that
cannot be used is refused with one log line and the running one stays in force.

The upstream is aiosmtpd requiring STARTTLS and AUTH; its accepted credentials are switched together with
relayd's, so a delivery after the switch proves which credentials relayd used.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import time
from pathlib import Path

from relayd_harness import free_port, relayctl_binary, to_yaml
from smtp_wire import SMTPWire, dot_stuff, message

OLD_USER, OLD_PASSWORD = "relay-user", "old password 1"
NEW_USER, NEW_PASSWORD = "relay-user-2", "new password 2"
# The SIGHUP tests turn file watching off, so the reload they see is the signal's and not a poll's.
SIGNAL_ONLY = {"reload": {"watch_interval": "0s"}}
REFUSED = "configuration reload refused; the running configuration stays in force"


# -- helpers ---------------------------------------------------------------------------------------

def submit(relay, subject: str, rcpt: str = "bob@example.net") -> str:
    with SMTPWire(relay.host, relay.port) as c:
        c.start()
        r = c.send_message("alice@example.org", [rcpt], message(subject, "hello\r\n", to=rcpt))
        assert r.code == 250 and r.queue_id, r
        c.cmd("QUIT")
        return r.queue_id


def delivered(relay, qid: str, timeout: float = 30.0) -> dict:
    return relay.wait_for_log(lambda r: r.get("msg") == "delivery" and r.get("id") == qid
                              and r.get("status") == "sent", timeout, f"delivery of {qid}")


def reload_messages(relay, seen: int = 0, msg: str = "configuration reloaded") -> list[dict]:
    """The reload log records written after the first `seen` records whose message is `msg`."""
    return [r for r in relay.log_records()[seen:] if r.get("msg") == msg]


def wait_reload(relay, seen: int, msg: str, timeout: float = 15.0) -> dict:
    """The first record after the first `seen` with message `msg`."""
    deadline = time.monotonic() + timeout
    while not (found := reload_messages(relay, seen, msg)):
        assert relay.proc.poll() is None, f"relayd exited:\n{relay.log_tail()}"
        assert time.monotonic() < deadline, f"no {msg!r} within {timeout}s:\n{relay.log_tail()}"
        time.sleep(0.05)
    return found[0]


def sighup_and_wait(relay, msg: str = "configuration reloaded") -> dict:
    """SIGHUP relayd (by its PID) and return the reload's log record."""
    seen = len(relay.log_records())
    os.kill(relay.proc.pid, signal.SIGHUP)
    return wait_reload(relay, seen, msg)


class MountedVolume:
    """A directory laid out as the kubelet lays out a ConfigMap or Secret volume: `<dir>/<name>` → `..data/<name>`,
    `..data` → `..<timestamp>`; `update` writes a new timestamped directory and swaps `..data` with one rename."""

    def __init__(self, root: Path, files: dict[str, str]):
        self.root = root
        self.root.mkdir(parents=True)
        self.generation = 0
        self._write(files)
        for name in files:
            (root / name).symlink_to(Path("..data") / name)

    def _write(self, files: dict[str, str]) -> None:
        self.generation += 1
        stamp = self.root / f"..2026_11_27_00_00_{self.generation:02d}.000000001"
        stamp.mkdir()
        for name, text in files.items():
            (stamp / name).write_text(text)
        tmp = self.root / "..data_tmp"
        tmp.symlink_to(stamp.name)
        os.rename(tmp, self.root / "..data")

    def update(self, files: dict[str, str]) -> None:
        self._write(files)

    def path(self, name: str) -> Path:
        return self.root / name


def tls_auth_config(up, test_ca, password_file: Path, user: str) -> dict:
    return up.relay_config(ca_file=test_ca.ca.ca_cert, verify_certificate=True, username=user,
                           password_file=str(password_file))


# -- SIGHUP ----------------------------------------------------------------------------------------

def test_sighup_with_a_new_upstream_password_uses_it_for_the_next_delivery(
        relay_factory, upstream_factory, test_ca, tmp_path):
    """The password file and the user change, then SIGHUP: the next delivery logs in as the new user with the
    new password (on a new connection: the pooled one from before is not reused), and an SMTP session that was
    in the middle of a transaction across the reload completes it."""
    up = upstream_factory(tls="starttls", cert=test_ca.good, auth=(OLD_USER, OLD_PASSWORD))
    secret = tmp_path / "upstream-password"
    secret.write_text(OLD_PASSWORD + "\n")
    relay = relay_factory({**tls_auth_config(up, test_ca, secret, OLD_USER), **SIGNAL_ONLY})
    delivered(relay, submit(relay, "before the rotation"))
    assert up.wait_for_messages(1)[0].login == OLD_USER

    # A client mid-transaction while the credentials rotate.
    with SMTPWire(relay.host, relay.port) as open_session:
        open_session.start()
        assert open_session.cmd("MAIL FROM:<carol@example.org>").code == 250

        up.auth = (NEW_USER, NEW_PASSWORD)
        secret.write_text(NEW_PASSWORD + "\n")
        relay.config["upstream"]["username"] = NEW_USER
        relay.config_path.write_text(to_yaml(relay.config))
        record = sighup_and_wait(relay)
        assert record["trigger"] == "SIGHUP"
        assert set(record["changed"].split(",")) == {"upstream.username", "upstream.password"}, record
        assert OLD_PASSWORD not in relay.log_text() and NEW_PASSWORD not in relay.log_text()

        assert open_session.cmd("RCPT TO:<dave@example.net>").code == 250
        assert open_session.cmd("DATA").code == 354
        open_session.send(dot_stuff(message("across the reload", "hi\r\n", to="dave@example.net")) + b".\r\n")
        reply = open_session.reply()
        assert reply.code == 250 and reply.queue_id, reply
        open_session.cmd("QUIT")

    delivered(relay, reply.queue_id)
    qid = submit(relay, "after the rotation")
    delivered(relay, qid)
    got = up.wait_for_messages(3)
    assert [m.login for m in got[1:]] == [NEW_USER, NEW_USER], up.transcript()
    refused = [a for s in up.client_sessions() for a in s.auth if not a[2]]
    assert refused == [], f"relayd tried credentials the upstream refused: {refused}"
    assert relay.proc.poll() is None


def test_a_bad_config_on_reload_is_refused_and_the_old_one_keeps_working(relay_factory, upstream_factory, tmp_path):
    up = upstream_factory(tls="none")
    relay = relay_factory({**up.relay_config(), **SIGNAL_ONLY})
    good = relay.config_path.read_text()

    relay.config_path.write_text(good + "retry:\n  jitter: 5\n")
    record = sighup_and_wait(relay, REFUSED)
    assert record["level"] == "error"
    assert "retry.jitter" in record["error"] and str(relay.config_path) in record["error"], record

    relay.config_path.write_text("upstream: [this is: not valid\n")
    record = sighup_and_wait(relay, REFUSED)
    assert "not valid YAML" in record["error"], record

    assert relay.proc.poll() is None
    delivered(relay, submit(relay, "still relayed"))
    assert len(up.wait_for_messages(1)) == 1


def test_a_missing_ca_file_on_reload_is_refused(relay_factory, upstream_factory, test_ca, tmp_path):
    up = upstream_factory(tls="starttls", cert=test_ca.good, auth=(OLD_USER, OLD_PASSWORD))
    secret = tmp_path / "pw"
    secret.write_text(OLD_PASSWORD)
    relay = relay_factory({**tls_auth_config(up, test_ca, secret, OLD_USER), **SIGNAL_ONLY})
    relay.config["upstream"]["ca_file"] = str(tmp_path / "no-such-ca.pem")
    relay.config_path.write_text(to_yaml(relay.config))
    record = sighup_and_wait(relay, REFUSED)
    assert "no-such-ca.pem" in record["error"], record
    delivered(relay, submit(relay, "old CA still in force"))


def test_relay_policy_and_restart_only_keys(relay_factory):
    """allowed_networks applies to the next session; a session opened before keeps the policy it started with.
    A listener address change is reported as needing a restart and the old listener keeps serving."""
    relay = relay_factory({"inbound": {"allowed_networks": ["127.0.0.0/8"]}, **SIGNAL_ONLY})
    with SMTPWire(relay.host, relay.port, source="127.0.0.2") as before:
        before.start()
        relay.config["inbound"]["allowed_networks"] = ["127.0.0.1/32"]
        relay.config["listen"]["smtp"] = ["127.0.0.1:1"]
        relay.config_path.write_text(to_yaml(relay.config))
        seen = len(relay.log_records())
        record = sighup_and_wait(relay)
        assert record["changed"] == "inbound.allowed_networks", record
        restart = wait_reload(relay, seen, "configuration change needs a restart; the running value stays until then")
        assert restart["key"] == "listen.smtp" and restart["level"] == "warning"

        assert before.cmd("MAIL FROM:<a@example.org>").code == 250
        assert before.cmd("RCPT TO:<b@example.net>").code == 250, "the session keeps the policy it started with"
    with SMTPWire(relay.host, relay.port, source="127.0.0.2") as after:
        after.start()
        assert after.cmd("MAIL FROM:<a@example.org>").code == 250
        assert after.cmd("RCPT TO:<b@example.net>").code == 554
    with SMTPWire(relay.host, relay.port) as inside:  # 127.0.0.1, still allowed, on the old port
        inside.start()
        assert inside.cmd("MAIL FROM:<a@example.org>").code == 250
        assert inside.cmd("RCPT TO:<b@example.net>").code == 250


def test_an_unchanged_config_reloads_as_a_no_op(relay_factory):
    relay = relay_factory(SIGNAL_ONLY)
    record = sighup_and_wait(relay, "configuration reloaded, nothing changed")
    assert record["trigger"] == "SIGHUP"
    assert record["level"] == "info"


# -- relayctl reload and the metrics -----------------------------------------------------------------

def relayctl(relay, *args: str) -> subprocess.CompletedProcess:
    """relayctl with --socket, so that it does not need to read the (possibly broken) config file itself."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELAY_")}
    return subprocess.run([str(relayctl_binary()), *args, "--socket", str(relay.control)],
                          capture_output=True, text=True, env=env, timeout=60)


def reload_metrics(relay) -> dict[str, float]:
    conn = http.client.HTTPConnection("127.0.0.1", relay.admin_port, timeout=10)
    try:
        conn.request("GET", "/metrics")
        text = conn.getresponse().read().decode()
    finally:
        conn.close()
    out = {}
    for line in text.splitlines():
        if line.startswith("mailrelay_config_"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def test_relayctl_reload_reports_what_changed_and_why_it_refused(relay_factory):
    port = free_port()
    relay = relay_factory({"listen": {"admin": f"127.0.0.1:{port}"}, **SIGNAL_ONLY})
    relay.admin_port = port
    assert reload_metrics(relay) == {
        "mailrelay_config_last_reload_successful": 1.0,
        **{f'mailrelay_config_reloads_total{{result="{result}"}}': 0.0 for result in ("applied", "unchanged", "refused")},
    }

    unchanged = relayctl(relay, "reload")
    assert (unchanged.returncode, unchanged.stdout) == (0, "Configuration reloaded: nothing changed\n"), unchanged

    relay.config["retry"] = {"first": "2m", "max": "2h"}
    relay.config["listen"]["smtp"].append("127.0.0.1:1")
    relay.config_path.write_text(to_yaml(relay.config))
    applied = relayctl(relay, "reload")
    assert applied.returncode == 0, applied
    assert applied.stdout.splitlines() == [
        "Configuration reloaded: retry.first, retry.max",
        "Needs a restart to take effect (the running values stay): listen.smtp",
    ]
    assert relay.wait_for_log(lambda r: r.get("msg") == "configuration reloaded", 5)["trigger"] == "relayctl"

    relay.config["retry"]["jitter"] = 3
    relay.config_path.write_text(to_yaml(relay.config))
    refused = relayctl(relay, "reload", "--json")
    assert refused.returncode == 1, refused
    report = json.loads(refused.stdout)
    assert report["result"] == "refused" and "retry.jitter" in report["error"], report
    plain = relayctl(relay, "reload")
    assert plain.returncode == 1 and plain.stdout == ""
    assert plain.stderr.startswith("relayctl: relayd refused the configuration, the running one stays in force: ")
    assert "retry.jitter" in plain.stderr

    samples = reload_metrics(relay)
    assert samples['mailrelay_config_reloads_total{result="unchanged"}'] == 1
    assert samples['mailrelay_config_reloads_total{result="applied"}'] == 1
    assert samples['mailrelay_config_reloads_total{result="refused"}'] == 2
    assert samples["mailrelay_config_last_reload_successful"] == 0

    del relay.config["retry"]["jitter"]
    relay.config_path.write_text(to_yaml(relay.config))
    assert relayctl(relay, "reload").returncode == 0
    assert reload_metrics(relay)["mailrelay_config_last_reload_successful"] == 1

    relay.stop()
    down = relayctl(relay, "reload")
    assert down.returncode == 3 and "relayd is not running" in down.stderr, down


# -- mounted files (Kubernetes) --------------------------------------------------------------------

def test_a_swapped_secret_and_configmap_are_picked_up_without_a_signal(
        relay_factory, upstream_factory, test_ca, tmp_path):
    """The ConfigMap (relay.yaml) and the Secret (password) are mounted as the kubelet mounts them; both are
    updated by a `..data` swap. relayd notices within reload.watch_interval and relays with the new login;
    retry settings from the new ConfigMap are in force too (`changed` lists them)."""
    up = upstream_factory(tls="starttls", cert=test_ca.good, auth=(OLD_USER, OLD_PASSWORD))
    secret = MountedVolume(tmp_path / "secret", {"password": OLD_PASSWORD + "\n"})
    relay = relay_factory({**tls_auth_config(up, test_ca, secret.path("password"), OLD_USER),
                           "reload": {"watch_interval": "1s"}}, start=False)
    config_map = MountedVolume(tmp_path / "config", {"relay.yaml": to_yaml(relay.config)})
    relay.config_path = config_map.path("relay.yaml")
    relay.start()
    delivered(relay, submit(relay, "before"))

    up.auth = (NEW_USER, NEW_PASSWORD)
    seen = len(relay.log_records())
    secret.update({"password": NEW_PASSWORD + "\n"})
    relay.config["upstream"]["username"] = NEW_USER
    relay.config["retry"] = {"first": "7m"}
    config_map.update({"relay.yaml": to_yaml(relay.config)})
    # The two swaps may be seen by one check or by two; together they change these keys.
    wanted = {"upstream.username", "upstream.password", "retry.first"}
    deadline = time.monotonic() + 20
    while True:
        records = reload_messages(relay, seen)
        changed = {key for r in records for key in r["changed"].split(",")}
        if wanted <= changed:
            break
        assert time.monotonic() < deadline, f"reloads seen: {records}\n{relay.log_tail()}"
        time.sleep(0.1)
    assert {r["trigger"] for r in records} == {"file change"}

    qid = submit(relay, "after")
    delivered(relay, qid)
    assert up.wait_for_messages(2)[1].login == NEW_USER
    assert not reload_messages(relay, msg=REFUSED)


def test_a_bad_configmap_is_refused_once_and_a_fixed_one_applies(relay_factory, upstream_factory, tmp_path):
    up = upstream_factory(tls="none")
    relay = relay_factory({**up.relay_config(), "reload": {"watch_interval": "1s"}}, start=False)
    config_map = MountedVolume(tmp_path / "config", {"relay.yaml": to_yaml(relay.config)})
    relay.config_path = config_map.path("relay.yaml")
    relay.start()

    refused = REFUSED
    bad = dict(relay.config, inbound={**relay.config["inbound"], "max_recipients": "none"})
    config_map.update({"relay.yaml": to_yaml(bad)})
    record = wait_reload(relay, 0, refused, 20)
    assert "inbound.max_recipients" in record["error"], record
    time.sleep(3)  # three more checks: the same bad file is not reported again
    assert len(reload_messages(relay, msg=refused)) == 1, reload_messages(relay, msg=refused)

    relay.config["inbound"]["max_recipients"] = 7
    config_map.update({"relay.yaml": to_yaml(relay.config)})
    record = wait_reload(relay, 0, "configuration reloaded", 20)
    assert record["changed"] == "inbound.max_recipients"
    delivered(relay, submit(relay, "after the fix"))
