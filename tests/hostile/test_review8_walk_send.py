"""Review of the walk (30415bc, 706b85e), the send: a bodiless request's head is flushed and the upstream read by the
send itself, with no relay turn. Each test drives a case where the skipped turn could show: requests pipelined behind
it or arriving while it is out, an upstream that answers at once, reads late or never, a caller that half-closes,
HEAD, bodies of nothing, Expect, and a CONNECT or an Upgrade after a kept request."""
import socket
import threading
import time

import pytest

from berthkit import echo_handler, upstream_stats
from hostile_wire import connect, read_to_end
from review8_wire import access_lines, echoing, read_answer, request_bytes, wait_upstream_idle


REQUESTS = [("GET", "/a", b""), ("HEAD", "/b", b""), ("POST", "/c", b"Content-Length: 0\r\n"),
            ("POST", "/d", b"Transfer-Encoding: chunked\r\n", b"0\r\n\r\n"), ("GET", "/e", b"")]


def test_pipelined_heads_behind_a_bodiless_send_are_all_answered_in_order(berth, raw_origin):
    """All five at once (the later ones buffered when the first goes out), then again one by one while the one before
    is still at the origin: each is answered once, in order, and the origin sees each once."""
    o = echoing(raw_origin, delay=0.05)
    b = berth("--access-log", "--log-format", "json")
    for spaced in (False, True):
        s = connect(b.proxy, timeout=10)
        buf = bytearray()
        try:
            wire = [request_bytes(o.port, r[0], r[1], r[2], r[3] if len(r) > 3 else b"") for r in REQUESTS]
            if spaced:
                for w in wire:
                    s.sendall(w)
                    time.sleep(0.02)
            else:
                s.sendall(b"".join(wire))
            for method, path, *_ in REQUESTS:
                status, headers, body = read_answer(s, buf, head_only=method == "HEAD")
                assert status == 200, (method, path, status)
                if method != "HEAD":
                    assert body == f"{method} {path} ".encode(), body
        finally:
            s.close()
    got = [(m.method, m.target) for _, m in o.requests]
    assert got == [(r[0], r[1]) for r in REQUESTS] * 2, got
    logged = access_lines(b, 10)
    assert [(d["method"], d["target"], d["status"]) for d in logged] == [(r[0], r[1], 200) for r in REQUESTS] * 2
    assert all(0 <= d["total_ms"] < 10_000 for d in logged), [d["total_ms"] for d in logged]
    assert upstream_stats(b, f"127.0.0.1:{o.port}")["requests"] == 10


def test_a_caller_that_half_closes_right_after_its_head_gets_the_answer_then_a_fin(berth, raw_origin):
    o = echoing(raw_origin, delay=0.05)
    b = berth()
    for reused in (False, True):
        s = connect(b.proxy, timeout=10)
        try:
            s.sendall(request_bytes(o.port, "GET", f"/half{int(reused)}"))
            s.shutdown(socket.SHUT_WR)
            data, how = read_to_end(s, timeout=10)
        finally:
            s.close()
        assert how == "fin", (how, data)
        assert data.startswith(b"HTTP/1.1 200") and data.endswith(f"GET /half{int(reused)} ".encode()), data


def test_an_origin_that_speaks_before_it_reads_is_relayed(berth, raw_origin):
    """The answer is in the socket before berth's head is flushed (sent on accept): it is read and relayed."""
    def eager(conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\neager")
        conn.read_request_head()
    o = raw_origin(eager)
    b = berth()
    s = connect(b.proxy, timeout=10)
    try:
        s.sendall(request_bytes(o.port, "GET", "/x"))
        status, _, body = read_answer(s, bytearray())
    finally:
        s.close()
    assert (status, body) == (200, b"eager")


def test_a_large_head_to_an_origin_that_reads_late_still_goes_out_whole(berth):
    """A head larger than the origin's receive buffer, to an origin that waits before reading: the flush leaves part of
    it for the write event, and the rest goes out when the origin reads."""
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(4)
    port = lsock.getsockname()[1]
    seen = []

    def serve():
        c, _ = lsock.accept()
        time.sleep(0.5)
        data = b""
        c.settimeout(10)
        while b"\r\n\r\n" not in data:
            data += c.recv(4096)
        seen.append(data)
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        time.sleep(0.5)
        c.close()
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    b = berth()
    filler = b"".join(f"X-Fill-{i}: {'v' * 1000}\r\n".encode() for i in range(60))
    s = connect(b.proxy, timeout=10)
    try:
        s.sendall(request_bytes(port, "GET", "/big", filler))
        status, _, body = read_answer(s, bytearray())
    finally:
        s.close()
        t.join(5)
        lsock.close()
    assert (status, body) == (200, b"ok")
    assert seen and seen[0].count(b"X-Fill-") == 60


def test_expect_100_continue_waits_for_the_body(berth, raw_origin):
    def respond(conn):
        msg = conn.read_request_head()
        conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        conn.read_body(msg)
        conn.respond(200, b"got " + msg.body)
    o = raw_origin(respond)
    b = berth()
    s = connect(b.proxy, timeout=10)
    buf = bytearray()
    try:
        s.sendall(request_bytes(o.port, "POST", "/up", b"Expect: 100-continue\r\nContent-Length: 5\r\n"))
        status, _, _ = read_answer(s, buf)
        assert status == 100
        s.sendall(b"hello")
        status, _, body = read_answer(s, buf)
    finally:
        s.close()
    assert (status, body) == (200, b"got hello")


def test_a_connect_and_an_upgrade_after_a_kept_request_become_tunnels(berth, raw_origin):
    """After a relayed GET (its route cached), a CONNECT on the same connection goes to its own target, not the
    cached route; on another, a bodiless GET with Upgrade goes out without a relay turn and its 101 still becomes a
    tunnel that carries bytes both ways."""
    o = echoing(raw_origin)
    echo = raw_origin(echo_handler)

    def upgrading(conn):
        conn.read_request_head()
        conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n")
        echo_handler(conn)
    up = raw_origin(upgrading)
    b = berth("--connect-port", str(echo.port))
    for second in ("connect", "upgrade"):
        s = connect(b.proxy, timeout=10)
        buf = bytearray()
        try:
            s.sendall(request_bytes(o.port, "GET", "/first"))
            assert read_answer(s, buf)[2] == b"GET /first "
            if second == "connect":
                s.sendall(f"CONNECT {echo.hostport} HTTP/1.1\r\nHost: {echo.hostport}\r\n\r\n".encode())
            else:
                s.sendall(request_bytes(up.port, "GET", "/ws", b"Connection: upgrade\r\nUpgrade: websocket\r\n"))
            while b"\r\n\r\n" not in buf:
                chunk = s.recv(65536)
                assert chunk, bytes(buf)
                buf += chunk
            head, _, rest = bytes(buf).partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200" if second == "connect" else b"HTTP/1.1 101"), head
            assert rest == b""
            s.sendall(b"ping through the tunnel")
            got = b""
            while len(got) < 23:
                chunk = s.recv(65536)
                assert chunk, got
                got += chunk
            assert got == b"ping through the tunnel"
        finally:
            s.close()


@pytest.mark.parametrize("reused", [False, True], ids=["fresh", "reused"])
def test_a_silent_origin_after_a_bodiless_send_gets_504_at_the_socket_timeout(berth, raw_origin, reused):
    """The send that reads the upstream itself arms the socket timeout (a fresh connection) or the dead-peer check that
    hands over to it (a reused one, whose peer acknowledges): the silence ends in 504 read-timeout, not a hang."""
    def respond(conn):
        while True:
            msg = conn.read_request()
            if msg is None:
                return
            if msg.target == "/silent":
                time.sleep(5)
                return
            conn.respond(200, b"warm")
    o = raw_origin(respond)
    b = berth("--socket-timeout", "1s")
    s = connect(b.proxy, timeout=10)
    buf = bytearray()
    try:
        if reused:
            s.sendall(request_bytes(o.port, "GET", "/warm"))
            assert read_answer(s, buf)[2] == b"warm"
            wait_upstream_idle(b, o)
        started = time.monotonic()
        s.sendall(request_bytes(o.port, "GET", "/silent"))
        status, headers, _ = read_answer(s, buf)
        waited = time.monotonic() - started
    finally:
        s.close()
    assert (status, headers.get("berth-error")) == (504, "read-timeout"), (status, headers)
    # Not a timing goal: the answer came from the 1 s timeout, not from the origin giving up after 5 s.
    assert waited < 4.5, waited

