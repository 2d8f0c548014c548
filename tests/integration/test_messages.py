"""Message framing through the proxy: bodies, bodiless responses, pipelining, HTTP/1.0, 100-continue, bad requests."""
import hashlib
import os
import time

import pytest
import requests

from berthkit import RawClient, get_req, keepalive_loop, raw_request, stats

MB = 1 << 20


def sha(b):
    return hashlib.sha256(b).hexdigest()


# 6 -----------------------------------------------------------------------------------------------------------------

def test_1mb_content_length_request_body_echoed_identically(berth, origin):
    b = berth("--socket-timeout", "10s")
    payload = os.urandom(MB)
    r = requests.post(f"http://{origin.hostport}/echo", data=payload,
                      proxies={"http": b.proxy_url}, timeout=30)
    assert r.status_code == 200
    assert len(r.content) == MB
    assert sha(r.content) == sha(payload)
    method, path, headers = origin.requests[-1]
    assert (method, path) == ("POST", "/echo")
    assert headers.get("Content-Length") == str(MB)


def test_1mb_chunked_request_body_raw(berth, origin):
    b = berth("--socket-timeout", "10s")
    payload = os.urandom(MB)
    c = RawClient(b.proxy, timeout=30)
    try:
        c.sendall(f"POST http://{origin.hostport}/chunked HTTP/1.1\r\nHost: {origin.hostport}\r\n"
                  f"Transfer-Encoding: chunked\r\n\r\n".encode())
        sizes = [1, 10, 4096, 65536, 100000, 7]
        off, i = 0, 0
        while off < len(payload):
            n = min(sizes[i % len(sizes)], len(payload) - off)
            c.sendall(f"{n:x}\r\n".encode() + payload[off:off + n] + b"\r\n")
            off += n
            i += 1
        c.sendall(b"0\r\n\r\n")
        r = c.read_response("POST")
        assert r.status == 200, r
        assert len(r.body) == MB
        assert sha(r.body) == sha(payload)
        # connection still usable afterwards
        r2 = c.request(get_req(origin.hostport, "/after"))
        assert r2.status == 200 and r2.body == b"hello /after", r2
    finally:
        c.close()


def test_1mb_response_bodies_content_length_and_chunked(berth, raw_origin):
    payload = os.urandom(MB)

    def respond(conn, msg):
        if msg.target == "/cl":
            conn.respond(200, payload)
        elif msg.target == "/chunked":
            conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            off, n = 0, 1
            while off < len(payload):
                k = min(n, len(payload) - off)
                conn.sendall(f"{k:x}\r\n".encode() + payload[off:off + k] + b"\r\n")
                off += k
                n = min(n * 3, 200000)
            conn.sendall(b"0\r\n\r\n")
        elif msg.target == "/until-close":
            conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + payload)
            raise EOFError  # close
        else:
            conn.respond(404, b"?")

    o = raw_origin(keepalive_loop(respond))
    b = berth("--socket-timeout", "10s")
    c = RawClient(b.proxy, timeout=30)
    try:
        for path in ("/cl", "/chunked", "/cl"):
            r = c.request(get_req(o.hostport, path))
            assert r.status == 200, r
            assert len(r.body) == MB, (path, len(r.body))
            assert sha(r.body) == sha(payload), path
    finally:
        c.close()
    r = raw_request(b.proxy, get_req(o.hostport, "/until-close"), timeout=30)
    assert r.status == 200
    assert len(r.body) == MB and sha(r.body) == sha(payload)


def test_1mb_bodies_through_requests_stream(berth, raw_origin):
    """Slow-reading caller: berth must apply backpressure rather than drop or corrupt data."""
    payload = os.urandom(4 * MB)

    def respond(conn, msg):
        conn.respond(200, payload)

    o = raw_origin(keepalive_loop(respond))
    b = berth("--socket-timeout", "10s")
    c = RawClient(b.proxy, timeout=30)
    try:
        c.sendall(get_req(o.hostport, "/big"))
        time.sleep(1.0)  # let buffers fill up
        r = c.read_response()
        assert r.status == 200
        assert sha(r.body) == sha(payload)
    finally:
        c.close()


# 12 ----------------------------------------------------------------------------------------------------------------

def test_head_204_304_have_no_body_and_connection_stays_usable(berth, raw_origin):
    def respond(conn, msg):
        if msg.target == "/204":
            conn.sendall(b"HTTP/1.1 204 No Content\r\nX-R: 204\r\n\r\n")
        elif msg.target == "/304":
            # Content-Length on a 304 describes the selected representation; there is no body.
            conn.sendall(b"HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nContent-Length: 42\r\n\r\n")
        elif msg.method == "HEAD":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 12345\r\nX-R: head\r\n\r\n")
        else:
            conn.respond(200, f"body {msg.target}".encode())

    o = raw_origin(keepalive_loop(respond))
    b = berth()
    c = RawClient(b.proxy)
    try:
        r = c.request(get_req(o.hostport, "/head", method="HEAD"), "HEAD")
        assert r.status == 200 and r.header("Content-Length") == "12345", r
        r = c.request(get_req(o.hostport, "/next1"))
        assert r.status == 200 and r.body == b"body /next1", r
        r = c.request(get_req(o.hostport, "/204"), "GET")
        assert r.status == 204, r
        assert r.header("Transfer-Encoding") is None and r.header("Content-Length") in (None, "0"), r
        r = c.request(get_req(o.hostport, "/next2"))
        assert r.status == 200 and r.body == b"body /next2", r
        r = c.request(get_req(o.hostport, "/304", b"If-None-Match: \"v1\"\r\n"))
        assert r.status == 304 and r.header("ETag") == "\"v1\"", r
        assert r.header("Transfer-Encoding") is None, r
        r = c.request(get_req(o.hostport, "/next3"))
        assert r.status == 200 and r.body == b"body /next3", r
        assert c.is_closed(0.3) is False  # no stray bytes, still open
    finally:
        c.close()
    # the upstream connection was reused throughout
    assert o.connections == 1


def test_head_through_shared_origin(berth, origin):
    b = berth()
    c = RawClient(b.proxy)
    try:
        r = c.request(get_req(origin.hostport, "/bytes/5000", method="HEAD"), "HEAD")
        assert r.status == 200 and r.header("Content-Length") == "5000" and r.body == b"", r
        r = c.request(get_req(origin.hostport, "/bytes/10"))
        assert r.status == 200 and r.body == b"x" * 10, r
    finally:
        c.close()


# 13 ----------------------------------------------------------------------------------------------------------------

def test_pipelined_requests_answered_in_order(berth, origin):
    b = berth("--socket-timeout", "5s")
    paths = ["/sleep/0.4/a", "/p/b", "/sleep/0.1/c"]
    c = RawClient(b.proxy)
    try:
        c.sendall(b"".join(get_req(origin.hostport, p) for p in paths))
        bodies = [c.read_response().body for _ in paths]
        assert bodies == [f"hello {p}".encode() for p in paths]
        assert c.is_closed(0.3) is False
        r = c.request(get_req(origin.hostport, "/after"))
        assert r.body == b"hello /after"
    finally:
        c.close()


def test_pipelined_requests_mixed_with_head_and_post(berth, origin):
    b = berth("--socket-timeout", "5s")
    c = RawClient(b.proxy)
    try:
        c.sendall(get_req(origin.hostport, "/bytes/100", method="HEAD")
                  + get_req(origin.hostport, "/echo", method="POST", body=b"pipelined-body")
                  + get_req(origin.hostport, "/last"))
        r1 = c.read_response("HEAD")
        r2 = c.read_response("POST")
        r3 = c.read_response()
        assert (r1.status, r1.header("Content-Length"), r1.body) == (200, "100", b""), r1
        assert r2.body == b"pipelined-body", r2
        assert r3.body == b"hello /last", r3
    finally:
        c.close()


# 14 ----------------------------------------------------------------------------------------------------------------

def test_http10_caller_connection_closed_after_response(berth, origin):
    b = berth()
    c = RawClient(b.proxy)
    try:
        c.sendall(get_req(origin.hostport, "/ten", version="HTTP/1.0"))
        r = c.read_response()
        assert r.status == 200 and r.body == b"hello /ten", r
        assert c.is_closed(3.0), "berth kept an HTTP/1.0 caller connection open without keep-alive"
    finally:
        c.close()


def test_http10_caller_keep_alive(berth, origin):
    """Ambiguity note: for an HTTP/1.0 caller asking for keep-alive, a persistent answer must say
    'Connection: keep-alive' (RFC 9112 9.3), otherwise a 1.0 client assumes close."""
    b = berth()
    c = RawClient(b.proxy)
    try:
        r = c.request(get_req(origin.hostport, "/ka1", b"Connection: keep-alive\r\n", version="HTTP/1.0"))
        assert r.status == 200 and r.body == b"hello /ka1", r
        if r.header("Connection", "").lower() == "close":
            pytest.fail(f"berth refused keep-alive for an HTTP/1.0 caller: {r}")
        assert "keep-alive" in r.header("Connection", "").lower(), r
        assert r.header("Content-Length") is not None, r
        r = c.request(get_req(origin.hostport, "/ka2", b"Connection: keep-alive\r\n", version="HTTP/1.0"))
        assert r.status == 200 and r.body == b"hello /ka2", r
    finally:
        c.close()


def test_http10_caller_gets_no_chunked_encoding(berth, raw_origin):
    """A chunked upstream response must not reach an HTTP/1.0 caller chunked (it can't decode it)."""
    body = os.urandom(5000)

    def respond(conn, msg):
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                     + b"".join(f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in (body[:100], body[100:]))
                     + b"0\r\n\r\n")

    o = raw_origin(keepalive_loop(respond))
    b = berth()
    c = RawClient(b.proxy)
    try:
        c.sendall(get_req(o.hostport, "/c", version="HTTP/1.0"))
        start, headers = c.read_until(b"\r\n\r\n"), None
        assert b"chunked" not in start.lower(), start
        rest = c.read_until_close()
        if b"content-length" in start.lower():
            n = int([l for l in start.split(b"\r\n") if l.lower().startswith(b"content-length")][0].split(b":")[1])
            rest = rest[:n]
        assert rest == body
    finally:
        c.close()


# 15 ----------------------------------------------------------------------------------------------------------------

def test_expect_100_continue_passes_through(berth, origin):
    b = berth("--socket-timeout", "5s")
    c = RawClient(b.proxy)
    try:
        c.sendall(f"POST http://{origin.hostport}/expect HTTP/1.1\r\nHost: {origin.hostport}\r\n"
                  f"Content-Length: 11\r\nExpect: 100-continue\r\n\r\n".encode())
        interim = c.read_response(allow_interim=True)
        assert interim.status == 100, interim
        c.sendall(b"hello world")
        r = c.read_response("POST")
        assert r.status == 200 and r.body == b"hello world", r
        r = c.request(get_req(origin.hostport, "/after"))
        assert r.status == 200 and r.body == b"hello /after", r
    finally:
        c.close()
    assert origin.requests[0][2].get("Expect") == "100-continue"


# 16 ----------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,extra", [
    ("cl-and-te", b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"),
    ("two-different-cl", b"Content-Length: 5\r\nContent-Length: 6\r\n"),
    ("bad-cl", b"Content-Length: abc\r\n"),
    ("space-before-colon", b"Content-Length : 5\r\n"),
])
def test_malformed_request_rejected_and_not_forwarded(berth, origin, name, extra):
    b = berth()
    c = RawClient(b.proxy)
    try:
        c.sendall(f"POST http://{origin.hostport}/smuggle HTTP/1.1\r\nHost: {origin.hostport}\r\n".encode()
                  + extra + b"\r\n5\r\nhello\r\n0\r\n\r\n")
        r = c.read_response()
        assert r.status == 400, r
        assert r.header("Berth-Error") == "bad-request", r
    finally:
        c.close()
    time.sleep(0.3)
    assert origin.requests == [], origin.requests
    assert stats(b)["totals"]["bad_requests"] >= 1
