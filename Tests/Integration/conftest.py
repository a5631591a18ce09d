"""Fixtures for the black-box integration tests: a real relayd on loopback.

    relay          a relayd with the default test config, started and greeting
    relay_factory  start relayd with config overrides / extra env: relay_factory({"inbound": {...}})
    wire           connect a raw SMTP client (smtp_wire.SMTPWire): wire(relay, source="127.0.0.2")

relayd is $RELAYD_BIN, or `.build/debug/relayd` found via `swift build --show-bin-path`.
Set RELAYIT_KEEP=1 to keep each relay's temporary directory (config, spool, outbox, log).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from relayd_harness import Relay, relayd_binary  # noqa: E402
from smtp_wire import SMTPWire  # noqa: E402


@pytest.fixture(scope="session")
def relayd_bin() -> Path:
    path = relayd_binary()
    if not path.is_file():
        pytest.fail(f"relayd binary not found at {path}: run `swift build` first or set RELAYD_BIN", pytrace=False)
    return path


@pytest.fixture
def relay_factory(relayd_bin, request):
    """Start relays with config overrides; every relay started is stopped (SIGTERM, then SIGKILL)."""
    started: list[Relay] = []

    def start(overrides: dict | None = None, *, env: dict | None = None, start: bool = True) -> Relay:
        r = Relay(overrides=overrides, env=env)
        started.append(r)
        if start:
            r.start()
        return r

    request.node.relays = started  # the report hook below attaches their logs to a failure
    yield start
    for r in started:
        r.cleanup()


@pytest.fixture
def relay(relay_factory) -> Relay:
    return relay_factory()


@pytest.fixture
def wire():
    """Open raw SMTP connections, closed after the test: wire(relay) or wire(relay, source="127.0.0.2")."""
    conns: list[SMTPWire] = []

    def connect(target: Relay, **kw) -> SMTPWire:
        c = SMTPWire(target.host, target.port, **kw)
        conns.append(c)
        return c

    yield connect
    for c in conns:
        c.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """On a failure, attach the tail of every relayd log the test started to the report."""
    rep = yield
    if rep.failed:
        for r in getattr(item, "relays", []):
            rep.sections.append((f"relayd log {r.log_path}", r.log_tail(80)))
    return rep
