"""Configuration: YAML file, RELAY_* environment overrides, defaults, errors, and the log format."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path

import pytest

from relayd_harness import Relay, free_port, outbox_files, read_outbox_message, to_yaml
from smtp_wire import SMTPWire, message


def run_relayd(relayd_bin: Path, args: list[str], *, env: dict | None = None, cwd: Path | None = None,
               timeout: float = 30) -> subprocess.CompletedProcess:
    """Run relayd expecting it to exit by itself (a config error)."""
    e = {k: v for k, v in os.environ.items() if not k.startswith("RELAY_")}
    e.update(env or {})
    try:
        return subprocess.run([str(relayd_bin), *args], capture_output=True, text=True, timeout=timeout,
                              env=e, cwd=cwd, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        pytest.fail(f"relayd {args} kept running for {timeout}s instead of refusing the config")


def config_error(relayd_bin, tmp_path, config: dict | str) -> tuple[Path, str]:
    path = tmp_path / "bad.yaml"
    path.write_text(config if isinstance(config, str) else to_yaml(config))
    p = run_relayd(relayd_bin, ["--config", str(path)], cwd=tmp_path)
    assert p.returncode != 0, f"relayd accepted a bad config:\n{p.stderr}"
    lines = [line for line in p.stderr.splitlines() if line.strip()]
    return path, lines


def minimal(tmp: Path, **extra) -> dict:
    port = free_port()
    base = {
        "listen": {"smtp": [f"127.0.0.1:{port}"], "admin": "", "control": str(tmp / "c.sock")},
        "spool": {"path": str(tmp / "spool")},
        "outbox": {"path": str(tmp / "outbox")},
    }
    base.update(extra)
    return base


@pytest.fixture
def short_tmp():
    """A short temp dir (Unix socket paths must stay under 108 bytes)."""
    import shutil
    d = Path(tempfile.mkdtemp(prefix="relaycfg-"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_unknown_top_level_key_is_refused_naming_file_and_key(relayd_bin, short_tmp):
    path, lines = config_error(relayd_bin, short_tmp, minimal(short_tmp, bogus_setting="x"))
    assert len(lines) == 1, f"expected one stderr line, got: {lines}"
    assert "bogus_setting" in lines[0] and str(path) in lines[0], lines[0]


def test_unknown_nested_key_is_refused_naming_file_and_key(relayd_bin, short_tmp):
    cfg = minimal(short_tmp, inbound={"max_recipient": 3})  # typo of max_recipients
    path, lines = config_error(relayd_bin, short_tmp, cfg)
    assert len(lines) == 1, f"expected one stderr line, got: {lines}"
    assert "max_recipient" in lines[0] and str(path) in lines[0], lines[0]


def test_invalid_value_is_refused_naming_the_key(relayd_bin, short_tmp):
    cfg = minimal(short_tmp, inbound={"max_message_size": "lots"})
    path, lines = config_error(relayd_bin, short_tmp, cfg)
    assert lines and "max_message_size" in "\n".join(lines), lines


def test_missing_config_file_is_an_error(relayd_bin, short_tmp):
    p = run_relayd(relayd_bin, ["--config", str(short_tmp / "nope.yaml")], cwd=short_tmp)
    assert p.returncode != 0
    assert "nope.yaml" in p.stderr, p.stderr


def test_env_overrides_the_file(relay_factory, wire):
    port = free_port()
    relay = relay_factory(
        {"inbound": {"max_message_size": "10MiB"}},
        env={"RELAY_INBOUND_MAX_MESSAGE_SIZE": "1MiB", "RELAY_LISTEN_SMTP": f"127.0.0.1:{port}"},
        start=False,
    )
    relay.port = port  # the env var moves the listener away from the file's port
    relay.start()
    c = wire(relay)
    c.greeting()
    r = c.ehlo()
    assert r.keyword_args("SIZE") == [str(1024 * 1024)], r


def test_list_settings_from_the_environment_are_comma_separated(relay_factory, wire):
    second = free_port("127.0.0.2")
    relay = relay_factory(start=False, env={
        "RELAY_INBOUND_ALLOWED_NETWORKS": "127.0.0.3/32,127.0.0.1/32",
    })
    relay.extra_env["RELAY_LISTEN_SMTP"] = f"127.0.0.1:{relay.port},127.0.0.2:{second}"
    relay.start()
    for host, port, source, expected in (
        ("127.0.0.1", relay.port, "127.0.0.1", "250 2.1.5"),
        ("127.0.0.2", second, "127.0.0.1", "250 2.1.5"),
        ("127.0.0.1", relay.port, "127.0.0.2", "554 5.7.1"),
    ):
        c = SMTPWire(host, port, source=source)
        try:
            c.start()
            assert c.cmd("MAIL FROM:<a@example.com>").code == 250
            r = c.cmd("RCPT TO:<b@example.com>")
            assert r.status == expected, f"from {source} to {host}:{port}: {r}"
        finally:
            c.close()


def test_unknown_relay_variable_is_refused_naming_it(relayd_bin, short_tmp):
    path = short_tmp / "ok.yaml"
    path.write_text(to_yaml(minimal(short_tmp)))
    p = run_relayd(relayd_bin, ["--config", str(path)], cwd=short_tmp,
                   env={"RELAY_INBOUND_MAX_RECIPIENT": "3"})  # typo of ..._MAX_RECIPIENTS
    assert p.returncode != 0, "a mistyped RELAY_ variable must not be ignored"
    assert "RELAY_INBOUND_MAX_RECIPIENT" in p.stderr, p.stderr


def test_relay_config_env_names_the_config_file(relayd_bin, wire):
    r = Relay()
    try:
        r.config_path.write_text(to_yaml(r.config))
        e = {k: v for k, v in os.environ.items() if not k.startswith("RELAY_")}
        e["RELAY_CONFIG"] = str(r.config_path)
        with open(r.log_path, "wb") as log:
            r.proc = subprocess.Popen([str(relayd_bin)], cwd=r.workdir, env=e, stdin=subprocess.DEVNULL,
                                      stdout=log, stderr=log)
        r.wait_ready()
        c = wire(r)
        c.start()
        assert c.send_message("a@example.com", ["b@example.com"], message("env-config", "x")).code == 250
        c.cmd("QUIT")
        r.wait_for_outbox(1)
    finally:
        r.cleanup()


def test_defaults_without_a_config_file_use_var_under_the_working_directory(relayd_bin, short_tmp, wire):
    """No --config: spool ./var/spool and outbox ./var/outbox relative to the working directory.
    (The listener is moved off the default 127.0.0.1:2525 with RELAY_LISTEN_SMTP so tests never
    collide with a relayd a developer runs.)"""
    r = Relay(workdir=short_tmp)
    r.outbox = short_tmp / "var" / "outbox"
    r.spool = short_tmp / "var" / "spool"
    e = {k: v for k, v in os.environ.items() if not k.startswith("RELAY_")}
    e["RELAY_LISTEN_SMTP"] = f"127.0.0.1:{r.port}"
    e["RELAY_LISTEN_CONTROL"] = str(short_tmp / "c.sock")
    e["RELAY_LISTEN_ADMIN"] = ""  # not the default 127.0.0.1:9025, which a developer's relayd may hold
    try:
        with open(r.log_path, "wb") as log:
            r.proc = subprocess.Popen([str(relayd_bin)], cwd=short_tmp, env=e, stdin=subprocess.DEVNULL,
                                      stdout=log, stderr=log)
        r.wait_ready()
        c = wire(r)
        c.start()
        data = message("defaults", "default paths")
        assert c.send_message("a@example.com", ["b@example.com"], data).code == 250
        c.cmd("QUIT")
        [path] = r.wait_for_outbox(1)
        assert read_outbox_message(path)[1] == data
        assert r.spool.is_dir(), "spool should be ./var/spool"
    finally:
        r.stop()


def test_listens_on_every_configured_address(relay_factory, wire):
    second = free_port("127.0.0.2")
    relay = relay_factory(start=False)
    relay.config["listen"]["smtp"] = [f"127.0.0.1:{relay.port}", f"127.0.0.2:{second}"]
    relay.start()
    for host, port in (("127.0.0.1", relay.port), ("127.0.0.2", second)):
        c = SMTPWire(host, port)
        try:
            c.start()
            assert c.send_message("a@example.com", ["b@example.com"], message(f"via-{host}", "x")).code == 250
            c.cmd("QUIT")
        finally:
            c.close()
    relay.wait_for_outbox(2)


def test_an_smtp_address_in_use_is_a_start_up_error(relay, relayd_bin, short_tmp):
    cfg = minimal(short_tmp)
    cfg["listen"]["smtp"] = [f"{relay.host}:{relay.port}"]  # taken by the running relay
    path = short_tmp / "clash.yaml"
    path.write_text(to_yaml(cfg))
    p = run_relayd(relayd_bin, ["--config", str(path)], cwd=short_tmp)
    assert p.returncode != 0, "a second relayd on the same port must not start"
    assert str(relay.port) in p.stderr, f"the error should name the address: {p.stderr}"


LOGFMT_PAIR = re.compile(r'\s*([A-Za-z_][\w.\-/]*)=("(?:[^"\\]|\\.)*"|[^\s"]*)')


def parse_logfmt(line: str) -> dict[str, str] | None:
    pos, out = 0, {}
    while pos < len(line):
        m = LOGFMT_PAIR.match(line, pos)
        if not m:
            return None if line[pos:].strip() else out
        out[m.group(1)] = m.group(2)
        pos = m.end()
    return out


def test_logs_are_logfmt_and_startup_mentions_the_outbox(relay, wire):
    c = wire(relay)
    c.start()
    assert c.send_message("a@example.com", ["b@example.com"], message("log", "x")).code == 250
    c.cmd("QUIT")
    relay.wait_for_outbox(1)
    lines = [ln for ln in relay.log_text().splitlines() if ln.strip() and not ln.startswith("--- start")]
    assert lines, "relayd wrote no log lines"
    bad = [ln for ln in lines if not parse_logfmt(ln) or len(parse_logfmt(ln)) < 2]
    assert not bad, f"lines that are not logfmt key=value pairs: {bad[:5]}"
    assert any("outbox" in ln for ln in lines[:10]), f"startup should mention the outbox: {lines[:10]}"
    qid = outbox_files(relay.outbox)[0].stem
    assert any(qid in ln for ln in lines), f"the queue id {qid} should appear in the log"


def test_sigint_also_stops_cleanly(relay):
    import signal
    relay.proc.send_signal(signal.SIGINT)
    assert relay.proc.wait(20) == 0
