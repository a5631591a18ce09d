#!/usr/bin/env python3
"""Regenerates the seed corpora in Fuzz/corpus/ from the unit tests' own inputs and config/*.yaml.

Seeds only steer libFuzzer towards well-formed input quickly; they are small on purpose (< 200 KB in all).
Run from the repository root: python3 Fuzz/make-corpus.py
"""
import glob, hashlib, os, re, shutil

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "Fuzz", "corpus")


def swift_literals(pattern_files):
    """Plain and raw ("#...#") Swift string literals of the given test files, escapes resolved."""
    out = []
    for path in sorted(glob.glob(os.path.join(ROOT, pattern_files))):
        text = open(path, encoding="utf-8").read()
        for raw in re.findall(r'#"(.*?)"#', text):
            out.append(raw.encode())
        for lit in re.findall(r'(?<![#\\])"((?:[^"\\\n]|\\.)*)"', text):
            try:
                value = re.sub(r"\\u\{([0-9a-fA-F]+)\}", lambda m: chr(int(m.group(1), 16)), lit)
                value = value.replace("\\r", "\r").replace("\\n", "\n").replace("\\t", "\t") \
                    .replace("\\0", "\0").replace('\\"', '"').replace("\\\\", "\\")
            except ValueError:
                continue
            if "\\(" in value:
                continue
            out.append(value.encode())
    return out


def write(target, seeds):
    folder = os.path.join(CORPUS, target)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    seen = set()
    for seed in seeds:
        if not seed or seed in seen or len(seed) > 8192:
            continue
        seen.add(seed)
        name = hashlib.sha1(seed).hexdigest()[:16]
        with open(os.path.join(folder, name), "wb") as f:
            f.write(seed)
    print(f"{target}: {len(seen)} seeds")


verbs = re.compile(rb"^(HELO|EHLO|MAIL|RCPT|DATA|RSET|NOOP|QUIT|VRFY|HELP|STARTTLS|AUTH)\b", re.I)
smtp = swift_literals("Tests/SMTPProtocolTests/*.swift")
commands = [s for s in smtp if verbs.match(s)]
session = b"".join(c + b"\r\n" for c in commands[:40])
write("command-parser", commands + [session, b"EHLO a\nMAIL FROM:<\"x y\"@[1.2.3.4]> SIZE=10 BODY=8BITMIME\r\n",
                                    b"RCPT TO:<@route,@b:user@example.com>\r\nRCPT TO:<Postmaster>\r\n"])

messages = [s for s in smtp if b"\r\n" in s and not re.match(rb"^[2-5]\d\d[ -]", s)]
write("data-decoder", messages + [
    b"Subject: x\r\n\r\n..dot\r\n.\r\n", b"a\r\n.\r\nMAIL FROM:<b@c>\r\n", b"bare\nLF\r\n.\r\n",
    b"bare\rCR\r\n.\r\n", b".\r\n", b"x" * 1001 + b"\r\n.\r\n", b"nul\0\r\n.\r\n", b"a\r\n.\rx\r\n.\r\n"])

replies = [s for s in smtp if re.match(rb"^[2-5]\d\d[ -]", s) and s.endswith(b"\n")]
write("reply-parser", replies + [b"250-mx\r\n250-PIPELINING\r\n250-AUTH PLAIN LOGIN\r\n250 STARTTLS\r\n",
                                 b"550-5.1.1 no\r\n550 5.1.1 such user\r\n", b"421 4.3.2 bye\n",
                                 # found by fuzzing: a combining mark right after the space that ends an enhanced code
                                 b"2502.0.0 \xcc\x81b\r\n"])

write("sasl", [b"AHVzZXIAcGFzcw==", b"dXNlcgB1c2VyAHBhc3M=", b"dXNlcg==\ncGFzcw==", b"*", b"=",
               b"authz\xffuser\xffpass", b"user\xffp\xc3\xa4ss", b"\xffu\xff", b"VXNlcm5hbWU6\nUGFzc3dvcmQ6"])

json = [s for s in swift_literals("Tests/FastJSONTests/*.swift") + swift_literals("Tests/SpoolTests/*.swift")
        + swift_literals("Tests/ControlTests/*.swift") if s.strip()[:1] in (b"{", b"[")]
write("json", json + [
    b'{"id":"0123456789AB","sender":"a@client.example","recipients":["b@x.example","c@y.example"],'
    b'"receivedAt":1700000000.25,"clientAddress":"127.0.0.1","clientName":"client","eightBitMIME":false,"smtputf8":true}',
    b'{"attempts":1,"nextAttemptAt":5,"held":false,"recipients":[{"address":"a@x","status":"deferred"}]}',
    b'{"s":"\\u00e9\\ud83d\\ude00\\n","n":-0,"d":-1.5e-3,"big":123456789012345678901,"a":[[],{},null,true,false]}'])

write("config", [open(p, "rb").read() for p in sorted(glob.glob(os.path.join(ROOT, "config", "*.yaml")))] + [
    b"hostname: relay.test\nupstream:\n  host: smtp.test\n  port: 587\n",
    b"upstreams:\n  - host: a.test\n  - host: b.test\n    port: 2525\ninbound:\n  max_message_size: 1MiB\n"])

envelope_line = (b'{"clientAddress":"127.0.0.1","clientName":"client","eightBitMIME":false,"id":"01HX0000000AB",'
                 b'"receivedAt":1700000000.25,"recipients":["b@x.example","c@y.example"],"sender":"a@client.example",'
                 b'"smtputf8":true}')
spool = [s for s in swift_literals("Tests/SpoolTests/*.swift") if s.startswith(b"MRQ1") or s.strip()[:1] == b"{"]
write("envelope", spool + [
    b"MRQ1 000000000005\n" + envelope_line + b"\nhello",
    b"MRQ1 000000000000\n" + envelope_line.replace(b"a@client.example", b"\\u00e9\\\"x\\\"@y") + b"\n",
    b"MRQ1 000000000002\n" + envelope_line.replace(b',"smtputf8":true', b',"smtputf8":true,"later":1') + b"\nhi",
    envelope_line,
    b'{"attempts":2,"nextAttemptAt":1700000600,"held":true,"lastError":"421 4.7.0 later",'
    b'"recipients":[{"address":"a@x","status":"deferred","reply":"421 4.7.0 later","at":1700000000.5},'
    b'{"address":"b@x","status":"failed","senderNotified":true}],'
    b'"history":[{"at":1700000000.5,"relay":"mx[10.0.0.1]:587","recipients":[{"address":"a@x","status":"deferred"}]}]}',
    b"a@client.example\x00127.0.0.1\x00client\x00b@x.example\x00c@y.example"])
