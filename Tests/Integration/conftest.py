"""Fixtures for the black-box integration tests: a real relayd on loopback.

    relay          a relayd with the default test config, started and greeting
    relay_factory  start relayd with config overrides / extra env: relay_factory({"inbound": {...}})
    wire           connect a raw SMTP client (smtp_wire.SMTPWire): wire(relay, source="127.0.0.2")
    test_ca        (session) a throw-away CA and server certificates, see certificates.py:
                   test_ca.ca.ca_cert, test_ca.good (localhost + 127.0.0.1), test_ca.other (other.example)
    upstream_factory  an aiosmtpd upstream (aiosmtpd_upstream.Upstream), stopped after the test:
                   upstream_factory(tls="starttls", cert=test_ca.good, auth=("user", "pw"), start=True)

relayd is $RELAYD_BIN, or `.build/debug/relayd` found via `swift build --show-bin-path`.
Set RELAYIT_KEEP=1 to keep each relay's temporary directory (config, spool, outbox, log).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from certificates import ServerCert, TestCA  # noqa: E402
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


@dataclass(frozen=True)
class TestCertificates:
    ca: TestCA
    good: ServerCert  # DNS:localhost, IP:127.0.0.1
    other: ServerCert  # DNS:other.example only: the wrong name for 127.0.0.1 and localhost

    __test__ = False


@pytest.fixture(scope="session")
def test_ca(tmp_path_factory) -> TestCertificates:
    ca = TestCA(tmp_path_factory.mktemp("test-ca"))
    return TestCertificates(
        ca=ca,
        good=ca.issue("localhost", dns=["localhost"], ips=["127.0.0.1"]),
        other=ca.issue("other", dns=["other.example"]),
    )


@pytest.fixture
def upstream_factory(request):
    """Create (and by default start) aiosmtpd upstreams; every one is stopped after the test."""
    try:
        from aiosmtpd_upstream import Upstream
    except ImportError as e:  # scripts/test installs it
        pytest.fail(f"aiosmtpd is not installed ({e}); python3 -m pip install aiosmtpd", pytrace=False)
    made = []

    def make(*, start: bool = True, **kw):
        up = Upstream(**kw)
        made.append(up)
        if start:
            up.start()
        return up

    request.node.upstreams = made
    yield make
    for up in made:
        up.stop()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """On a failure, attach the tail of every relayd log the test started (and what each
    upstream saw) to the report."""
    rep = yield
    if rep.failed:
        for r in getattr(item, "relays", []):
            rep.sections.append((f"relayd log {r.log_path}", r.log_tail(80)))
        for up in getattr(item, "upstreams", []):
            rep.sections.append((f"upstream 127.0.0.1:{up.port} ({up.tls})", up.transcript(60)))
    return rep
