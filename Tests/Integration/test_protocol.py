"""SMTP conversation over a raw socket: replies, extensions, pipelining, session commands."""

from __future__ import annotations

import time

from relayd_harness import QUEUE_ID, read_outbox_message
from smtp_wire import message


def test_greeting_names_the_configured_hostname(relay, wire):
    g = wire(relay).greeting()
    assert g.code == 220, g
    assert len(g.lines) == 1, f"greeting should be one line: {g}"
    assert g.text.startswith("relay.test ESMTP"), g


def test_ehlo_advertises_the_contract_keywords(relay, wire):
    c = wire(relay)
    c.greeting()
    r = c.ehlo("client.example")
    assert r.code == 250, r
    assert r.lines[0].startswith("relay.test"), r
    assert {"PIPELINING", "SIZE", "8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8"} <= r.keywords(), r
    size = r.keyword_args("SIZE")
    assert size and size[0].isdigit() and int(size[0]) > 0, f"SIZE needs the limit in octets: {r}"


def test_ehlo_size_is_the_configured_limit(relay_factory, wire):
    relay = relay_factory({"inbound": {"max_message_size": "100KiB"}})
    c = wire(relay)
    c.greeting()
    r = c.ehlo()
    assert r.keyword_args("SIZE") == [str(100 * 1024)], r


def test_helo_works_and_allows_a_transaction(relay, wire):
    c = wire(relay)
    c.greeting()
    r = c.cmd("HELO client.example")
    assert r.code == 250, r
    assert len(r.lines) == 1, f"HELO reply is a single line: {r}"
    r = c.send_message("a@example.com", ["b@example.com"], message("helo", "via HELO"))
    assert r.status == "250 2.0.0", r
    relay.wait_for_outbox(1)


def test_final_reply_names_a_queue_id_that_becomes_the_outbox_file(relay, wire):
    c = wire(relay)
    c.start()
    data = message("queue-id", "hello")
    r = c.send_message("a@example.com", ["b@example.com"], data)
    assert r.status == "250 2.0.0", r
    assert r.text.startswith("2.0.0 Ok: queued as "), r
    acked_at = time.monotonic()
    qid = r.queue_id
    assert qid and QUEUE_ID.match(qid), f"queue id should be short uppercase alphanumeric: {r}"
    [path] = relay.wait_for_outbox(1, settle=0)
    latency = time.monotonic() - acked_at
    assert latency < 2.0, f"the message reached the outbox {latency:.2f}s after its 250 (contract: ~1 s)"
    assert path.name == f"{qid}.eml"
    _, body = read_outbox_message(path)
    assert body == data


def test_queue_ids_sort_by_time(relay, wire):
    c = wire(relay)
    c.start()
    ids = []
    for i in range(3):
        r = c.send_message("a@example.com", ["b@example.com"], message(f"sort-{i}", "x"))
        ids.append(r.queue_id)
        time.sleep(1.1)
    assert len(set(ids)) == 3, ids
    assert ids == sorted(ids), f"queue ids taken >1 s apart must sort in time order: {ids}"


def test_pipelining_replies_come_back_in_order(relay, wire):
    c = wire(relay)
    c.start()
    c.send(
        "MAIL FROM:<a@example.com>\r\n"
        "RCPT TO:<one@example.com>\r\n"
        "RCPT TO:<two@example.com>\r\n"
        "DATA\r\n"
    )
    mail, r1, r2, data = c.replies(4)
    assert mail.code == 250, mail
    assert r1.code == 250 and r2.code == 250, (r1, r2)
    assert data.code == 354, data
    body = message("pipelined", "pipelined body")
    # the end of the data, the next transaction and QUIT in one write
    c.send(body + b".\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<three@example.com>\r\nDATA\r\n")
    done, mail2, r3, data2 = c.replies(4)
    assert done.status == "250 2.0.0", done
    assert (mail2.code, r3.code, data2.code) == (250, 250, 354), (mail2, r3, data2)
    c.send(message("pipelined-2", "second") + b".\r\nQUIT\r\n")
    done2, bye = c.replies(2)
    assert done2.status == "250 2.0.0", done2
    assert bye.code == 221, bye
    assert c.wait_closed(5), "server should close after 221"
    files = relay.wait_for_outbox(2)
    bodies = {read_outbox_message(p)[1] for p in files}
    assert bodies == {body, message("pipelined-2", "second")}


def test_mail_before_helo_is_a_bad_sequence(relay, wire):
    c = wire(relay)
    c.greeting()
    assert c.cmd("MAIL FROM:<a@example.com>").status == "503 5.5.1"
    assert c.cmd("EHLO client.example").code == 250


def test_rcpt_before_mail_is_a_bad_sequence(relay, wire):
    c = wire(relay)
    c.start()
    assert c.cmd("RCPT TO:<b@example.com>").status == "503 5.5.1"


def test_data_without_accepted_recipient_is_a_bad_sequence(relay, wire):
    c = wire(relay)
    c.start()
    assert c.cmd("DATA").status == "503 5.5.1"
    assert c.cmd("MAIL FROM:<a@example.com>").code == 250
    assert c.cmd("DATA").status == "503 5.5.1"
    assert c.cmd("RCPT TO:<not an address>").status == "501 5.1.3"
    assert c.cmd("DATA").status == "503 5.5.1", "a rejected RCPT must not open DATA"
    assert c.cmd("NOOP").code == 250


def test_unknown_mail_and_rcpt_parameters(relay, wire):
    c = wire(relay)
    c.start()
    assert c.cmd("MAIL FROM:<a@example.com> FROBNICATE=yes").status == "555 5.5.4"
    assert c.cmd("MAIL FROM:<a@example.com> BODY=8BITMIME").code == 250
    assert c.cmd("RCPT TO:<b@example.com> FROBNICATE=yes").status == "555 5.5.4"
    assert c.cmd("RCPT TO:<b@example.com>").code == 250


def test_known_mail_parameters_are_accepted(relay, wire):
    c = wire(relay)
    c.start()
    r = c.cmd("MAIL FROM:<a@example.com> SIZE=1000 BODY=8BITMIME SMTPUTF8")
    assert r.code == 250, r
    assert c.cmd("RCPT TO:<b@example.com>").code == 250


def test_malformed_addresses(relay, wire):
    c = wire(relay)
    c.start()
    for bad in ["MAIL FROM:<a@b@c>", "MAIL FROM:<a b@example.com>", "MAIL FROM:<@>", "MAIL FROM:<a@>"]:
        r = c.cmd(bad)
        assert r.status == "501 5.1.7", f"{bad!r} -> {r}"
    assert c.cmd("MAIL FROM:<a@example.com>").code == 250
    for bad in ["RCPT TO:<>", "RCPT TO:<b c@example.com>", "RCPT TO:<@@>", "RCPT TO:<@example.com>"]:
        r = c.cmd(bad)
        assert r.status == "501 5.1.3", f"{bad!r} -> {r}"
    assert c.cmd("RCPT TO:<b@example.com>").code == 250


def test_unbalanced_angle_brackets_are_refused(relay, wire):
    """A path without its closing '>' is refused with 501 (5.1.7/5.1.3 as for a bad address, or
    5.5.4 as a command syntax error) and the session goes on."""
    c = wire(relay)
    c.start()
    r = c.cmd("MAIL FROM:<a@example.com")
    assert r.code == 501 and r.enhanced in ("5.1.7", "5.5.4"), r
    assert c.cmd("MAIL FROM:<a@example.com>").code == 250
    r = c.cmd("RCPT TO:<b@example.com")
    assert r.code == 501 and r.enhanced in ("5.1.3", "5.5.4"), r
    assert c.cmd("RCPT TO:<b@example.com>").code == 250


def test_null_sender_is_accepted(relay, wire):
    c = wire(relay)
    c.start()
    data = message("bounce", "a delivery status notification", sender="")
    r = c.send_message("", ["postmaster@example.com"], data)
    assert r.status == "250 2.0.0", r
    [path] = relay.wait_for_outbox(1)
    assert read_outbox_message(path)[1] == data


def test_many_messages_per_session_and_many_recipients(relay, wire):
    c = wire(relay)
    c.start()
    sent = {}
    for i in range(20):
        data = message(f"multi-{i}", f"message number {i}\r\n" * (i + 1))
        r = c.send_message("a@example.com", [f"r{i}-{j}@example.com" for j in range(1 + i % 5)], data)
        assert r.status == "250 2.0.0", r
        sent[r.queue_id] = data
    assert len(sent) == 20, "every message needs its own queue id"
    assert c.cmd("QUIT").code == 221
    files = relay.wait_for_outbox(20)
    got = {p.stem: read_outbox_message(p)[1] for p in files}
    assert got == sent


def test_fifty_recipients_on_one_message(relay, wire):
    c = wire(relay)
    c.start()
    r = c.send_message("a@example.com", [f"r{j}@example.com" for j in range(50)], message("fifty", "x"))
    assert r.status == "250 2.0.0", r
    relay.wait_for_outbox(1)


def test_rset_discards_the_transaction(relay, wire):
    c = wire(relay)
    c.start()
    assert c.cmd("MAIL FROM:<a@example.com>").code == 250
    assert c.cmd("RCPT TO:<b@example.com>").code == 250
    assert c.cmd("RSET").code == 250
    assert c.cmd("DATA").status == "503 5.5.1", "RSET must forget the recipients"
    assert c.cmd("RCPT TO:<b@example.com>").status == "503 5.5.1", "RSET must forget the sender"
    r = c.send_message("a@example.com", ["b@example.com"], message("after-rset", "x"))
    assert r.code == 250
    relay.wait_for_outbox(1)


def test_noop_vrfy_help_quit(relay, wire):
    c = wire(relay)
    c.start()
    assert c.cmd("NOOP").code == 250
    assert c.cmd("VRFY postmaster").code == 252
    assert c.cmd("HELP").code == 214
    assert c.cmd("QUIT").code == 221
    assert c.wait_closed(5), "server should close the connection after 221"


def test_commands_are_case_insensitive(relay, wire):
    c = wire(relay)
    c.greeting()
    assert c.cmd("ehlo client.example").code == 250
    assert c.cmd("mail from:<a@example.com>").code == 250
    assert c.cmd("rcpt to:<b@example.com>").code == 250
    assert c.cmd("data").code == 354
    c.send(message("lower", "x") + b".\r\n")
    assert c.reply().code == 250
    relay.wait_for_outbox(1)


def test_a_second_ehlo_resets_the_transaction(relay, wire):
    c = wire(relay)
    c.start()
    assert c.cmd("MAIL FROM:<a@example.com>").code == 250
    assert c.ehlo().code == 250
    assert c.cmd("RCPT TO:<b@example.com>").status == "503 5.5.1"


def test_every_octet_but_cr_lf_and_nul_passes_unchanged(relay, wire):
    """Data transparency: 8-bit bytes, control characters, lines that start with dots or look like
    commands are stored exactly as sent."""
    octets = bytes(b for b in range(1, 256) if b not in (10, 13))
    lines = [b"Subject: octets", b""] + [octets[i:] + octets[:i] for i in range(0, 253, 11)]
    lines += [b".", b"..", b". leading dot", b"MAIL FROM:<x@example.com>", b"QUIT", b""]
    data = b"\r\n".join(lines)
    c = wire(relay)
    c.start()
    r = c.send_message("a@example.com", ["b@example.com"], data)
    assert r.status == "250 2.0.0", r
    [path] = relay.wait_for_outbox(1)
    assert read_outbox_message(path)[1] == data


def test_a_9_mib_message_arrives_intact(relay):
    import smtplib
    import random

    rng = random.Random(7)
    line = lambda: "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(76))  # noqa: E731
    body = "".join(line() + "\r\n" for _ in range((9 * 1024 * 1024) // 78)).encode()
    data = b"Subject: big\r\nFrom: <a@example.com>\r\n\r\n" + body
    with smtplib.SMTP(relay.host, relay.port, timeout=60) as s:
        s.sendmail("a@example.com", ["b@example.com"], data)
    [path] = relay.wait_for_outbox(1, timeout=60)
    assert read_outbox_message(path)[1] == data


def test_a_long_pipeline_gets_every_reply(relay, wire):
    """5,000 pipelined NOOPs in one write: every reply comes back, in order, none lost or merged."""
    import threading

    c = wire(relay)
    c.start()
    n = 5000
    writer = threading.Thread(target=c.send, args=(b"NOOP\r\n" * n + b"QUIT\r\n",), daemon=True)
    writer.start()
    codes = [c.reply(timeout=30).code for _ in range(n + 1)]
    writer.join(30)
    assert codes[:n] == [250] * n
    assert codes[n] == 221


def test_hostile_helo_names_cannot_break_the_received_header(relay, wire):
    """Whatever the client calls itself ends up in the Received: header; it must not be able to end
    that header early or inject one of its own. relayd may refuse such a name (501) instead."""
    names = [
        b"evil\rX-Injected: yes",
        b"evil)\tX-Injected: yes",
        b"(comment",
        "ünïcödé.example".encode(),
        b"a" * 900,
        b"[127.0.0.1]",
    ]
    expected = []
    for i, name in enumerate(names):
        c = wire(relay)
        assert c.greeting().code == 220
        r = c.cmd(b"EHLO " + name)
        if r.code != 250:
            assert r.code == 501, f"EHLO {name!r}: {r}"
            continue
        data = message(f"helo-{i}", f"name {i}")
        assert c.send_message("a@example.com", ["b@example.com"], data).code == 250
        expected.append(data)
        c.cmd("QUIT")
    files = relay.wait_for_outbox(len(expected))
    got = []
    for path in files:
        received, msg = read_outbox_message(path)
        for header in received:
            body = header[:-2]
            assert b"\n" not in body.replace(b"\r\n\t", b"").replace(b"\r\n ", b""), header
            assert b"\r" not in body.replace(b"\r\n", b""), f"bare CR in {header!r}"
        lines = b"".join(received).split(b"\r\n")
        assert not any(line.lstrip().startswith(b"X-Injected") for line in lines), received
        got.append(msg)
    assert sorted(got) == sorted(expected)
