"""Review 12: what berth learns of an upstream's HTTP version (reliability item 77), and when it refuses chunked bodies.

Item 77 answers a chunked request 411 when the upstream's last answer was HTTP/1.0. Three ways that knowledge went
wrong: an HTTP/1.0 answer to an HTTP/1.0 request (berth forwards the caller's version; Go's net/http and Jetty answer
in the request's version) was taken for a server without HTTP/1.1, so one HTTP/1.0 caller made berth refuse every
other caller's chunked upload to a server that takes them; a new container behind the same address (a new
`Berth-Generation`) kept the old one's HTTP/1.0 verdict; and a chunked request queued for a connection while the
first answer came back HTTP/1.0 went out chunked on the very connection that answered it.
"""
import threading
import time

import pytest

from berthkit import wait_for
from hostile_wire import connect, read_response, read_to_end, status_of

SMUGGLED = "GET /SMUGGLED HTTP/1.1\r\nHost: x\r\n\r\n"


def chunked_post(hostport, path="/p", extra=""):
    body = f"{len(SMUGGLED):x}\r\n{SMUGGLED}\r\n0\r\n\r\n"
    return (f"POST http://{hostport}{path} HTTP/1.1\r\nHost: {hostport}\r\n{extra}Transfer-Encoding: chunked\r\n\r\n"
            f"{body}").encode()


def version_echoing_origin(seen, versions):
    """An HTTP/1.1 server that answers in the request's version (as Go's net/http does) and takes chunked bodies."""
    lock = threading.Lock()

    def handler(conn):
        while True:
            msg = conn.read_request()
            if msg is None:
                return
            with lock:
                seen.append((msg.method, msg.target, msg.body))
                versions.append(msg.version)
            v = "HTTP/1.0" if msg.version == "HTTP/1.0" else "HTTP/1.1"
            keep = "Connection: keep-alive\r\n" if v == "HTTP/1.0" else ""
            conn.sendall(f"{v} 200 OK\r\n{keep}Content-Length: 2\r\n\r\nok".encode())

    return handler


def test_an_http10_answer_to_an_http10_request_says_nothing_of_the_server(berth, raw_origin):
    seen, versions = [], []
    b = berth()
    o = raw_origin(version_echoing_origin(seen, versions))
    old = connect(b.proxy)
    old.sendall(f"GET http://{o.hostport}/old HTTP/1.0\r\nHost: {o.hostport}\r\n\r\n".encode())
    head, body = read_response(old)
    # berth forwards the caller's version, and this server answers in it.
    assert status_of(head) == 200 and versions == ["HTTP/1.0"], (head, versions)
    old.close()
    s = connect(b.proxy)
    s.sendall(chunked_post(o.hostport))
    head, body = read_response(s)
    s.close()
    assert status_of(head) == 200 and body == b"ok", head
    assert seen[-1] == ("POST", "/p", SMUGGLED.encode()), seen


def test_a_new_generation_at_the_address_is_a_server_not_known_yet(berth, raw_origin):
    seen = []
    state = {"v": "HTTP/1.0"}

    def handler(conn):
        while True:
            msg = conn.read_request()
            if msg is None:
                return
            seen.append((msg.method, msg.target, msg.body))
            conn.sendall(f"{state['v']} 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok".encode())

    b = berth()
    o = raw_origin(handler)
    s = connect(b.proxy)
    s.sendall(f"GET http://{o.hostport}/warm HTTP/1.1\r\nHost: {o.hostport}\r\nBerth-Generation: c1\r\n\r\n".encode())
    head, _ = read_response(s)
    assert status_of(head) == 200, head
    s.sendall(chunked_post(o.hostport, extra="Berth-Generation: c1\r\n"))
    raw, _ = read_to_end(s, timeout=5)
    s.close()
    assert status_of(raw) == 411, raw
    # The container is replaced by one that speaks HTTP/1.1, and its first request is a chunked upload.
    state["v"] = "HTTP/1.1"
    s = connect(b.proxy)
    s.sendall(chunked_post(o.hostport, path="/c2", extra="Berth-Generation: c2\r\n"))
    head, body = read_response(s)
    s.close()
    assert status_of(head) == 200 and body == b"ok", head
    assert seen[-1] == ("POST", "/c2", SMUGGLED.encode()), seen


def test_a_chunked_request_queued_behind_the_first_http10_answer_is_not_sent_chunked(berth, raw_origin):
    seen = []
    answered = threading.Event()

    def handler(conn):
        # An HTTP/1.0 server: no chunked framing, so a body without Content-Length is none.
        while True:
            msg = conn.read_request_head()
            if msg is None:
                return
            seen.append(f"{msg.method} {msg.target}")
            n = int(msg.header("Content-Length") or 0)
            if n:
                conn.read_exact(n)
            if msg.target == "/slow":
                time.sleep(1.0)
            conn.sendall(b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok")
            answered.set()

    b = berth("--max-per-route", "1", "--socket-timeout", "5s", "--acquire-timeout", "5s")
    o = raw_origin(handler)
    first = connect(b.proxy)
    first.sendall(f"GET http://{o.hostport}/slow HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
    time.sleep(0.3)
    assert seen == ["GET /slow"], seen
    # Nothing is known of the server yet: the POST is admitted, and waits for the one connection.
    queued = connect(b.proxy)
    queued.sendall(chunked_post(o.hostport))
    head, _ = read_response(first)
    first.close()
    assert status_of(head) == 200, head
    raw, _ = read_to_end(queued, timeout=5)
    queued.close()
    time.sleep(0.3)
    assert status_of(raw) == 411, raw
    assert "GET /SMUGGLED" not in seen and "POST /p" not in seen, seen


def test_a_chunked_request_whose_connect_outlasts_the_first_http10_answer_is_refused(berth, raw_origin):
    # The connect path's own check (connectSucceeded): the POST is admitted while nothing is known of the server,
    # its connect hangs (its SYN dropped), the first request's answer says HTTP/1.0 meanwhile, and the connect then
    # finishes. On loopback a connect otherwise always beats any answer, so only a dropped SYN shows this path.
    try:
        from berthkit.nftables import NftablesUnavailable, Vanish
        vanish = Vanish()
    except NftablesUnavailable as e:
        pytest.skip(str(e))
    seen = []

    def handler(conn):
        while True:
            msg = conn.read_request_head()
            if msg is None:
                return
            seen.append(f"{msg.method} {msg.target}")
            n = int(msg.header("Content-Length") or 0)
            if n:
                conn.read_exact(n)
            if msg.target == "/slow":
                time.sleep(0.5)
            conn.sendall(b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok")

    b = berth("--connect-timeout", "8s", "--socket-timeout", "8s")
    o = raw_origin(handler)
    try:
        first = connect(b.proxy)
        first.sendall(f"GET http://{o.hostport}/slow HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
        wait_for(lambda: seen == ["GET /slow"], timeout=5, what="the first request at the origin")
        vanish.lose(o.port, "syn")
        post = connect(b.proxy)
        post.sendall(chunked_post(o.hostport))
        head, _ = read_response(first)
        # The answer is in, so berth knows the server answers HTTP/1.0; the POST's SYN is sent again ~1 s after the
        # first one, and now passes.
        vanish.close()
        first.close()
        assert status_of(head) == 200, head
        raw, _ = read_to_end(post, timeout=10)
        post.close()
    finally:
        vanish.close()
    time.sleep(0.3)
    assert status_of(raw) == 411, raw
    assert "GET /SMUGGLED" not in seen and "POST /p" not in seen, seen
