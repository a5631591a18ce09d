"""relayctl hash-password, black-box: the `$scrypt$ln=…,r=…,p=…$salt$hash` line it prints for a password on
standard input or --password, checked with Python's own scrypt (hashlib, the same OpenSSL KDF) so the format
is what another tool would read. No relayd is needed.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import subprocess

import pytest

from relayd_harness import relayctl_binary

HASH_LINE = re.compile(r"^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$")


def hash_password(*args: str, stdin: str | bytes | None = None) -> subprocess.CompletedProcess:
    binary = relayctl_binary()
    if not binary.is_file():
        pytest.fail(f"relayctl not found at {binary}: run `swift build --product relayctl` first", pytrace=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELAY_")}
    data = stdin.encode() if isinstance(stdin, str) else stdin
    return subprocess.run([str(binary), "hash-password", *args], input=data, capture_output=True, env=env,
                          timeout=60)


def unpadded_b64decode(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def parse(line: str) -> tuple[int, int, int, bytes, bytes]:
    match = HASH_LINE.match(line)
    assert match, f"not a $scrypt$ line: {line!r}"
    ln, r, p = (int(g) for g in match.group(1, 2, 3))
    return ln, r, p, unpadded_b64decode(match.group(4)), unpadded_b64decode(match.group(5))


def verifies(line: str, password: str) -> bool:
    ln, r, p, salt, digest = parse(line)
    computed = hashlib.scrypt(password.encode(), salt=salt, n=1 << ln, r=r, p=p, dklen=len(digest),
                              maxmem=256 << 20)
    return computed == digest


def single_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\nstderr: {result.stderr.decode()}"
    out = result.stdout.decode()
    assert out.endswith("\n") and out.count("\n") == 1, f"expected exactly one line on stdout: {out!r}"
    return out[:-1]


def test_password_from_standard_input_gives_one_standard_cost_line():
    line = single_line(hash_password(stdin="correct horse battery staple\n"))
    ln, r, p, salt, digest = parse(line)
    assert (ln, r, p) == (15, 8, 1)
    assert len(salt) == 16 and len(digest) == 32
    assert verifies(line, "correct horse battery staple")
    assert not verifies(line, "correct horse battery staple\n")
    assert not verifies(line, "correct horse battery stapl")


@pytest.mark.parametrize("stdin", ["s3cret \r\n", "s3cret ", "s3cret \nsecond line\n"])
def test_only_the_first_line_without_its_line_end_is_the_password(stdin):
    line = single_line(hash_password(stdin=stdin))
    assert verifies(line, "s3cret ")


def test_the_password_option_gives_a_hash_that_verifies():
    result = hash_password("--password", "pässwörd ✓")
    line = single_line(result)
    assert verifies(line, "pässwörd ✓")
    assert b"p\xc3\xa4ssw" not in result.stderr


def test_each_run_has_its_own_salt():
    first = single_line(hash_password("--password", "same"))
    second = single_line(hash_password("--password", "same"))
    assert first != second
    assert parse(first)[3] != parse(second)[3]
    assert verifies(first, "same") and verifies(second, "same")


@pytest.mark.parametrize("stdin", ["", "\n", "\r\n"])
def test_an_empty_or_missing_password_is_exit_1_with_nothing_on_stdout(stdin):
    result = hash_password(stdin=stdin)
    assert result.returncode == 1
    assert result.stdout == b""
    assert result.stderr.decode().startswith("relayctl: ")


def test_an_empty_password_option_is_exit_1():
    result = hash_password("--password", "")
    assert result.returncode == 1
    assert result.stdout == b""


def test_help_names_the_users_file_format_and_warns_about_the_option():
    result = hash_password("--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.decode().split())
    assert "inbound.auth.users_file" in text
    assert "name:hash[:domain,…]" in text
    assert "ps" in text
