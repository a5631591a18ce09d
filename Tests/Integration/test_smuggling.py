"""SMTP smuggling: only CRLF.CRLF ends DATA, and bare CR / bare LF never sneak in a second message.

Each case sends a legitimate message whose body contains a fake end-of-data sequence followed
by a complete second transaction (the "smuggled" one), then the real CRLF.CRLF. relayd's
documented choice is to reject the whole message with 550 5.5.2 after the real end of data,
queue nothing, and keep the session usable. In any case the smuggled transaction must never
become a message of its own.
"""

from __future__ import annotations

import socket
import time

import pytest

from relayd_harness import read_outbox_message

LEGIT = b"From: <a@example.com>\r\nTo: <b@example.com>\r\nSubject: legit\r\n\r\nlegitimate body"
SMUGGLED = (
    b"MAIL FROM:<smuggler@evil.example>\r\n"
    b"RCPT TO:<victim@example.com>\r\n"
    b"DATA\r\n"
    b"From: <ceo@example.com>\r\nSubject: SMUGGLED\r\n\r\nsmuggled body\r\n"
)

# fake end-of-data sequences (the legit body ends right before them, without a CRLF)
BARE_VARIANTS = {
    "lf.lf": b"\n.\n",
    "lf.crlf": b"\n.\r\n",
    "cr.crlf": b"\r.\r\n",
    "crlf.lf": b"\r\n.\n",
    "crlf.cr": b"\r\n.\r",
    "lf.cr": b"\n.\r",
    "cr.cr": b"\r.\r",
    "crlf.cr-x": b"\r\n.\rX",
}


def _smuggle(relay, wire, fake_end: bytes):
    """Send the smuggling attempt; return (reply to the real end of data, the connection)."""
    c = wire(relay)
    c.start()
    assert c.cmd("MAIL FROM:<a@example.com>").code == 250
    assert c.cmd("RCPT TO:<b@example.com>").code == 250
    assert c.cmd("DATA").code == 354
    c.send(LEGIT + fake_end + SMUGGLED)
    assert c.nothing_within(1.0), (
        f"relayd answered before the real CRLF.CRLF — it took {fake_end!r} as the end of data: {c.buf!r}"
    )
    c.send(b"\r\n.\r\n")
    return c.reply(), c


def _assert_session_still_works(relay, c):
    r = c.send_message("a@example.com", ["b@example.com"], b"Subject: after\r\n\r\nclean follow-up\r\n")
    assert r.status == "250 2.0.0", f"session must stay usable after the rejection: {r}"
    assert c.cmd("QUIT").code == 221
    return r.queue_id


def _assert_no_smuggled_message(relay):
    for path in relay.outbox_files():
        _, msg = read_outbox_message(path)
        head = msg.split(b"\r\n\r\n", 1)[0]
        assert b"SMUGGLED" not in head and b"ceo@example.com" not in head, (
            f"{path.name} is a smuggled message: {msg[:300]!r}"
        )


@pytest.mark.parametrize("fake_end", list(BARE_VARIANTS.values()), ids=list(BARE_VARIANTS))
def test_bare_cr_or_lf_is_rejected_and_nothing_is_smuggled(relay, wire, fake_end):
    r, c = _smuggle(relay, wire, fake_end)
    assert r.status == "550 5.5.2", r
    follow_up = _assert_session_still_works(relay, c)
    # exactly one message: the clean follow-up. Nothing from the rejected DATA, nothing smuggled.
    [path] = relay.wait_for_outbox(1, settle=1.0)
    assert path.stem == follow_up
    assert b"clean follow-up" in path.read_bytes()
    _assert_no_smuggled_message(relay)


def test_nul_variant_does_not_split_the_message(relay, wire):
    """A NUL before the dot is no end of data either. relayd may refuse the message (5xx) or
    take it whole, but it must never turn the tail into a second transaction."""
    r, c = _smuggle(relay, wire, b"\r\n\x00.\r\n")
    assert r.code in (250, 550, 554), r
    follow_up = _assert_session_still_works(relay, c)
    expected = 2 if r.code == 250 else 1
    files = relay.wait_for_outbox(expected, settle=1.0)
    _assert_no_smuggled_message(relay)
    assert follow_up in {p.stem for p in files}
    if r.code == 250:
        [whole] = [p for p in files if p.stem == r.queue_id]
        _, msg = read_outbox_message(whole)
        assert msg == LEGIT + b"\r\n\x00.\r\n" + SMUGGLED + b"\r\n", "accepted data must be kept whole"


def test_bare_lf_at_the_end_of_an_otherwise_clean_message(relay, wire):
    c = wire(relay)
    c.start()
    assert c.cmd("MAIL FROM:<a@example.com>").code == 250
    assert c.cmd("RCPT TO:<b@example.com>").code == 250
    assert c.cmd("DATA").code == 354
    c.send(b"Subject: lf\r\n\r\nline one\nline two\r\n.\r\n")
    r = c.reply()
    assert r.status == "550 5.5.2", r
    _assert_session_still_works(relay, c)
    relay.wait_for_outbox(1, settle=1.0)


def test_dot_stuffed_lines_are_not_an_end_of_data(relay, wire):
    c = wire(relay)
    c.start()
    assert c.cmd("MAIL FROM:<a@example.com>").code == 250
    assert c.cmd("RCPT TO:<b@example.com>").code == 250
    assert c.cmd("DATA").code == 354
    c.send(b"Subject: dots\r\n\r\n..\r\n..\r\n...x\r\n.\r\n")
    r = c.reply()
    assert r.status == "250 2.0.0", r
    [path] = relay.wait_for_outbox(1)
    assert read_outbox_message(path)[1] == b"Subject: dots\r\n\r\n.\r\n.\r\n..x\r\n"


def _send_in_pieces(c, pieces: list[bytes]) -> None:
    c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for piece in pieces:
        c.send(piece)
        time.sleep(0.15)  # separate reads on the server side


def test_end_of_data_split_across_reads(relay, wire):
    """The decoder keeps its state between reads: CRLF.CRLF arriving one byte at a time still ends the
    data, a dot-stuffed line split after its first dot is unstuffed, and a fake end split the same way
    (CRLF . LF) is still no end."""
    c = wire(relay)
    c.start()
    assert c.cmd("MAIL FROM:<a@example.com>").code == 250
    assert c.cmd("RCPT TO:<b@example.com>").code == 250
    assert c.cmd("DATA").code == 354
    _send_in_pieces(c, [b"Subject: pieces\r\n\r\nbody\r", b"\n.", b".stuffed\r\n", b"end\r", b"\n", b".", b"\r", b"\n"])
    r = c.reply()
    assert r.status == "250 2.0.0", r
    [path] = relay.wait_for_outbox(1)
    assert read_outbox_message(path)[1] == b"Subject: pieces\r\n\r\nbody\r\n.stuffed\r\nend\r\n"

    assert c.cmd("MAIL FROM:<a@example.com>").code == 250
    assert c.cmd("RCPT TO:<b@example.com>").code == 250
    assert c.cmd("DATA").code == 354
    _send_in_pieces(c, [b"Subject: fake\r\n\r\nlegit\r", b"\n", b".", b"\n", SMUGGLED])
    assert c.nothing_within(1.0), f"a split CRLF.LF ended the data: {c.buf!r}"
    c.send(b"\r\n.\r\n")
    assert c.reply().status == "550 5.5.2"
    relay.wait_for_outbox(1, settle=1.0)
    _assert_no_smuggled_message(relay)
