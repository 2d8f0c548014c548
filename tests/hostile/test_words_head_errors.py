"""words: every kind of unreadable request berth refuses says what was wrong in plain words, the same words from the
proxy and the admin API (one table, HTTP1Error's), with the codec's stable kebab name; never a Swift case name such
as `invalidHeaderName` (before: the proxy's 400 body was `berth: bad-request: invalidHeaderName`)."""
import json
import os
import re
import socket

import pytest

from berthkit import keepalive_loop
from hostile_wire import connect, exchange, read_to_end, status_of

# A Swift identifier in camelCase (`bareLF`, `invalidChunkSize`); plain words and kebab names never match.
CAMEL = re.compile(rb"\b[a-z]+[A-Z][A-Za-z]*\b")

H = "Host: 127.0.0.1:9\r\n"
G = "GET http://127.0.0.1:9/ HTTP/1.1\r\n"

# (request, status, stable name, words the detail must hold). All refused from the head alone, before any connect.
HEADS = [
    (G + H + "B@d: x\r\n\r\n", 400, "invalid-header-name", "header field name"),
    (G + H + "X: a\x01b\r\n\r\n", 400, "invalid-header-value", "header field value"),
    (G + H + "X : a\r\n\r\n", 400, "whitespace-before-colon", "whitespace between a header field name and its colon"),
    (G + H + "X: a\r\n b\r\n\r\n", 400, "obs-fold", "folded"),
    (G.replace("\r\n", "\n") + H.replace("\r\n", "\n") + "\n", 400, "bare-lf", "LF without CR"),
    (G + H + "X: a\rb\r\n\r\n", 400, "bare-cr", "CR not followed by LF"),
    ("G@T http://127.0.0.1:9/ HTTP/1.1\r\n" + H + "\r\n", 400, "invalid-method", "method"),
    ("GET http://127.0.0.1:9/a#frag HTTP/1.1\r\n" + H + "\r\n", 400, "invalid-target", "request target"),
    ("GET http://127.0.0.1:9/ HTTP/1.x\r\n" + H + "\r\n", 400, "invalid-version", "HTTP/1.1"),
    ("GET http://127.0.0.1:9/ HTTP/2.0\r\n" + H + "\r\n", 505, "unsupported-version", "HTTP version not supported"),
    ("GET http://127.0.0.1:9/" + "a" * 9000 + " HTTP/1.1\r\n" + H + "\r\n", 414, "start-line-too-long", "request line too long"),
    (G + H + "X: " + "a" * 70000 + "\r\n\r\n", 431, "header-section-too-large", "header section too large"),
    (G + H + "".join(f"X{i}: a\r\n" for i in range(120)) + "\r\n", 431, "too-many-headers", "too many"),
    (G + "\r\n", 400, "missing-host", "Host"),
    (G + H + H + "\r\n", 400, "conflicting-host", "more than one Host"),
    (G + H + "Content-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400, "conflicting-content-length", "Content-Length"),
    (G + H + "Content-Length: 1x\r\n\r\n", 400, "invalid-content-length", "Content-Length"),
    (G + H + "Content-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "content-length-with-transfer-encoding",
     "both Content-Length and Transfer-Encoding"),
    (G + H + "Transfer-Encoding: chunked, identity\r\n\r\n", 400, "invalid-transfer-encoding", "Transfer-Encoding"),
    (G + H + "Transfer-Encoding: gzip\r\n\r\n", 501, "unsupported-transfer-encoding", "Transfer-Encoding"),
]


def documented():
    """api.md's table of unreadable requests: {name: (status column, text)}."""
    with open(os.path.join(os.path.dirname(__file__), "..", "..", "api.md")) as f:
        rows = re.findall(r"^\| `([a-z-]+)` \| ([^|]+) \| ([^|]+) \|$", f.read().split("## Unreadable requests", 1)[1], re.M)
    return {name: (status.strip(), text.strip()) for name, status, text in rows}


def assert_documented(message, name, status):
    """`message` is api.md's text for `name`, then the name; its status column starts with `status`."""
    doc_status, text = documented()[name]
    assert message == f"{text} ({name})", (message, text)
    assert doc_status.startswith(str(status)), (name, doc_status)


def split_answer(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    return head, body


def assert_plain_words(raw, words, name):
    """The answer's head is printable ASCII lines, and its body names the fault in words and by its kebab name."""
    head, body = split_answer(raw)
    for line in head.split(b"\r\n"):
        assert all(0x20 <= c < 0x7F for c in line), line
    assert not CAMEL.search(head + body), raw[:400]
    assert words.encode() in body, body
    assert f"({name})".encode() in body, body


@pytest.mark.parametrize("raw,status,name,words", HEADS, ids=[h[2] for h in HEADS])
def test_the_proxy_names_a_bad_head_in_words(berth, raw, status, name, words):
    b = berth()
    got = exchange(b.proxy, raw.encode("latin-1"))
    assert status_of(got) == status, got[:300]
    head, body = split_answer(got)
    assert b"\r\nBerth-Error: bad-request\r\n" in head + b"\r\n", head
    assert body.startswith(b"berth: bad-request: "), body
    assert_plain_words(got, words, name)


@pytest.mark.parametrize("raw,status,name,words", HEADS, ids=[h[2] for h in HEADS])
def test_the_admin_says_the_same_words(berth, raw, status, name, words):
    """The admin answers the same head with the same sentence: one table, not a copy per server."""
    b = berth()
    proxy = split_answer(exchange(b.proxy, raw.encode("latin-1")))[1].decode()
    got = exchange(b.admin, raw.replace("http://127.0.0.1:9/", "/healthz", 1).encode("latin-1"))
    assert status_of(got) == status, got[:300]
    message = json.loads(split_answer(got)[1])["error"]
    assert proxy == f"berth: bad-request: {message}\n", (proxy, message)
    assert_plain_words(got, words, name)
    assert_documented(message, name, status)


def _ok(conn, msg):
    conn.respond(200, b"ok")


@pytest.mark.parametrize("body,name,words", [
    ("zz\r\n", "invalid-chunk-size", "chunk size"),
    ("5\r\nhelloXX\r\n", "invalid-chunk-framing", "chunk"),
    ("0\r\nX: " + "a" * 20000 + "\r\n\r\n", "trailer-too-large", "trailer"),
], ids=["chunk-size", "chunk-framing", "trailer"])
def test_a_bad_chunked_request_body_is_named_in_words(berth, raw_origin, body, name, words):
    o = raw_origin(keepalive_loop(_ok))
    b = berth()
    s = connect(b.proxy)
    try:
        s.sendall(f"POST http://{o.hostport}/up HTTP/1.1\r\nHost: {o.hostport}\r\n"
                  f"Transfer-Encoding: chunked\r\n\r\n{body}".encode())
        s.shutdown(socket.SHUT_WR)
        got, how = read_to_end(s, timeout=10)
    finally:
        s.close()
    assert status_of(got) == 400 and how == "fin", (how, got[:300])
    prefix = b"berth: bad-request: invalid chunked request body: "
    assert split_answer(got)[1].startswith(prefix), got
    assert_plain_words(got, words, name)
    assert_documented(split_answer(got)[1][len(prefix):].decode().rstrip("\n"), name, 400)


def test_a_bad_socket_timeout_field_says_it_is_not_a_duration(berth):
    """Before: `Berth-Socket-Timeout: write 125ms, 2s or 5m`, an order with no statement of what was wrong."""
    b = berth()
    got = exchange(b.proxy, (G + H + "Berth-Socket-Timeout: 5x\r\nConnection: close\r\n\r\n").encode())
    assert status_of(got) == 400, got[:300]
    assert split_answer(got)[1] == b"berth: bad-request: Berth-Socket-Timeout is not a duration (write 125ms, 2s or 5m)\n", got
