"""Review of the walk (30415bc, 706b85e): a bodiless send that flushes the head and reads the upstream itself, with no
relay turn, and the exchange cleared when it ends. Each test drives one case where the skipped turn or the earlier
clear could show: requests pipelined behind it or arriving while it is out, an upstream that answers at once or reads
late, a caller that half-closes, HEAD, bodies of nothing, Expect, a retry after a reused connection died, a request
queued behind a pause and granted later, and what the access log and /stats say of each request."""
import json
import shutil
import socket
import subprocess
import threading
import time

import pytest

from berthkit import admin_json, echo_handler, keepalive_loop, upstream_stats, wait_for
from hostile_wire import connect, read_to_end


def read_answer(sock, buf, head_only=False):
    """One Content-Length response from `sock` after the bytes in `buf` (a bytearray, consumed): (status, headers, body)."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        assert chunk, bytes(buf)
        buf += chunk
    raw, _, rest = bytes(buf).partition(b"\r\n\r\n")
    lines = raw.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    del buf[:len(raw) + 4]
    n = 0 if head_only or status in (100, 204, 304) else int(headers.get("content-length", "0"))
    while len(buf) < n:
        chunk = sock.recv(65536)
        assert chunk, bytes(buf)
        buf += chunk
    body = bytes(buf[:n])
    del buf[:n]
    return status, headers, body


def echoing(raw_origin, delay=0.0):
    """An origin that answers every request with its method, target and body, after `delay` seconds."""
    def respond(conn, msg):
        if delay:
            time.sleep(delay)
        conn.respond(200, f"{msg.method} {msg.target} ".encode() + (msg.body or b""))
    return raw_origin(keepalive_loop(respond))


def access_lines(b, count):
    """The first `count` access lines berth wrote (JSON), once there are that many."""
    def lines():
        return [d for d in (json.loads(x) for x in b.stderr_text().splitlines() if x.startswith("{")) if d.get("msg") == "access"]
    wait_for(lambda: len(lines()) >= count, what=f"{count} access lines")
    return lines()


REQUESTS = [("GET", "/a", b""), ("HEAD", "/b", b""), ("POST", "/c", b"Content-Length: 0\r\n"),
            ("POST", "/d", b"Transfer-Encoding: chunked\r\n", b"0\r\n\r\n"), ("GET", "/e", b"")]


def request_bytes(port, method, path, extra=b"", body=b""):
    return f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n".encode() + extra + b"\r\n" + body


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


def test_a_get_retried_after_its_reused_connection_died_is_answered_and_logged_once(berth, raw_origin):
    """The origin answers the first request, then reads the second on the same connection and closes unanswered:
    berth sends it again on a fresh connection (a bodiless send, so without a relay turn), and the third, pipelined
    behind it, follows."""
    served = []

    def respond(conn):
        while True:
            msg = conn.read_request()
            if msg is None:
                return
            served.append(msg.target)
            if msg.target == "/two" and served.count("/two") == 1:
                return  # the connection ends under the request berth reused it for
            conn.respond(200, msg.target.encode())
    o = raw_origin(respond)
    b = berth("--access-log", "--log-format", "json")
    s = connect(b.proxy, timeout=10)
    buf = bytearray()
    try:
        s.sendall(request_bytes(o.port, "GET", "/one"))
        assert read_answer(s, buf)[2] == b"/one"
        wait_upstream_idle(b, o)
        s.sendall(request_bytes(o.port, "GET", "/two") + request_bytes(o.port, "GET", "/three"))
        assert read_answer(s, buf)[2] == b"/two"
        assert read_answer(s, buf)[2] == b"/three"
    finally:
        s.close()
    assert served == ["/one", "/two", "/two", "/three"], served
    logged = access_lines(b, 3)
    assert [(d["target"], d["status"], d["attempts"]) for d in logged] == [
        ("/one", 200, ["first"]), ("/two", 200, ["first", "idempotent"]), ("/three", 200, ["first"])], logged


def wait_upstream_idle(b, o):
    wait_for(lambda: upstream_stats(b, f"127.0.0.1:{o.port}")["idle"] == 1, what="the connection idle in its pool")


def test_a_request_queued_behind_a_pause_goes_out_when_granted(berth, raw_origin):
    """The grant comes posted, from the resume: the send runs from that event, bodiless, and the next request on the
    connection (pipelined behind the held one) follows it."""
    o = echoing(raw_origin)
    b = berth("--access-log", "--log-format", "json")
    u = f"127.0.0.1:{o.port}"
    s = connect(b.proxy, timeout=10)
    buf = bytearray()
    try:
        s.sendall(request_bytes(o.port, "GET", "/warm"))
        assert read_answer(s, buf)[2] == b"GET /warm "
        wait_upstream_idle(b, o)
        admin_json(b, "POST", f"/pause?upstream={u}")
        s.sendall(request_bytes(o.port, "GET", "/held") + request_bytes(o.port, "HEAD", "/next"))
        wait_for(lambda: upstream_stats(b, u)["pending"] == 1, what="the request queued")
        admin_json(b, "POST", f"/resume?upstream={u}")
        assert read_answer(s, buf)[:3:2] == (200, b"GET /held ")
        assert read_answer(s, buf, head_only=True)[0] == 200
    finally:
        s.close()
    logged = access_lines(b, 3)
    assert [(d["method"], d["target"], d["status"]) for d in logged] == [("GET", "/warm", 200), ("GET", "/held", 200),
                                                                          ("HEAD", "/next", 200)]
    assert logged[1]["acquire_ms"] > 0 and logged[2]["acquire_ms"] == 0, logged


def test_berths_own_answer_after_kept_requests_is_logged_as_itself(berth, raw_origin):
    """Two relayed requests, then one berth refuses (a bad Berth-Socket-Timeout: 400, the caller kept), then another
    relayed: four lines, each with its own method, target, status and a total from its own head."""
    o = echoing(raw_origin)
    b = berth("--access-log", "--log-format", "json")
    s = connect(b.proxy, timeout=10)
    buf = bytearray()
    try:
        s.sendall(request_bytes(o.port, "GET", "/1"))
        read_answer(s, buf)
        s.sendall(request_bytes(o.port, "HEAD", "/2"))
        read_answer(s, buf, head_only=True)
        time.sleep(1.0)
        s.sendall(request_bytes(o.port, "GET", "/3", b"Berth-Socket-Timeout: soon\r\n"))
        status, headers, _ = read_answer(s, buf)
        assert (status, headers.get("berth-error")) == (400, "bad-request")
        s.sendall(request_bytes(o.port, "GET", "/4"))
        assert read_answer(s, buf)[2] == b"GET /4 "
    finally:
        s.close()
    logged = access_lines(b, 4)
    assert [(d["method"], d["target"], d["status"], d["berth_error"]) for d in logged] == [
        ("GET", "/1", 200, None), ("HEAD", "/2", 200, None), ("GET", "/3", 400, "bad-request"), ("GET", "/4", 200, None)]
    # Each from its own head: the second before the 1 s pause is not counted into the third's.
    assert logged[2]["total_ms"] < 1000, [d["total_ms"] for d in logged]
    up = upstream_stats(b, f"127.0.0.1:{o.port}")
    assert up["requests"] == 3, up


NFT_TABLE = "berth_review8_walk"


def _nft(*args):
    return subprocess.run(["nft", *args], capture_output=True, text=True, timeout=10)


@pytest.fixture
def vanish():
    """vanish(port): silently drops the packets of the connections to `port` established now (no ACK, no RST); new
    ones pass. A table of this file's own, removed afterwards whatever happens."""
    if shutil.which("nft") is None:
        pytest.skip("nft is not installed")
    _nft("delete", "table", "inet", NFT_TABLE)
    if _nft("add", "table", "inet", NFT_TABLE).returncode != 0:
        pytest.skip("cannot add an nftables table here (needs root and nf_tables)")
    _nft("add", "chain", "inet", NFT_TABLE, "input", "{ type filter hook input priority -10 ; policy accept ; }")

    def drop(port):
        out = subprocess.run(["ss", "-Htn", "state", "established", f"( dport = :{port} )"],
                             capture_output=True, text=True, timeout=10).stdout
        ports = sorted({line.split()[-2].rsplit(":", 1)[1] for line in out.splitlines() if line.strip()})
        assert ports, f"no established connection to port {port} to drop"
        ports_set = "{ " + ", ".join(ports) + " }"
        for rule in (f"tcp dport {port} tcp sport {ports_set} drop", f"tcp sport {port} tcp dport {ports_set} drop"):
            assert _nft("add", "rule", "inet", NFT_TABLE, "input", *rule.split()).returncode == 0

    try:
        yield drop
    finally:
        _nft("delete", "table", "inet", NFT_TABLE)


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_bodiless_request_on_a_vanished_reused_connection_is_caught_by_the_dead_peer_check(berth, raw_origin, vanish,
                                                                                             method):
    """The send that reads the upstream itself arms the dead-peer check as the relay's turn did: the request the
    vanished connection never acknowledged goes again on a fresh one after the dead-peer timeout (250 ms), well
    before the socket timeout (3 s), and its access line says so."""
    o = echoing(raw_origin)
    b = berth("--socket-timeout", "3s", "--access-log", "--log-format", "json")
    s = connect(b.proxy, timeout=10)
    buf = bytearray()
    try:
        s.sendall(request_bytes(o.port, "GET", "/warm"))
        assert read_answer(s, buf)[0] == 200
        wait_upstream_idle(b, o)
        vanish(o.port)
        s.sendall(request_bytes(o.port, method, "/after"))
        status, _, body = read_answer(s, buf, head_only=method == "HEAD")
    finally:
        s.close()
    assert status == 200 and (method == "HEAD" or body == b"GET /after "), (status, body)
    second = access_lines(b, 2)[1]
    assert second["attempts"] == ["first", "dead-peer"] and second["reused"] is True, second
    # Not a timing goal: the proof that the dead-peer timeout (not the 3 s socket timeout) ended the first attempt.
    assert second["total_ms"] < 3000, second


def test_the_route_cache_follows_each_spelling_on_one_connection(berth, raw_origin):
    """One caller connection names its upstream one way after another: each head sends upstream the Host its own
    spelling gives (the cache hits only on the same bytes), and the spellings of one name meet one pool."""
    o = raw_origin(keepalive_loop(lambda conn, msg: conn.respond(200, (msg.header("Host") or "").encode())))
    b = berth("--access-log", "--log-format", "json")
    p = o.port
    heads = [(f"/1", f"localhost:{p}"), (f"/2", f"LOCALHOST:{p}"), (f"/3", f"localhost:{p}"),
             (f"http://LocalHost:{p}/4", "other"), (f"http://localhost:{p}/5", "other"), (f"/6", f"LocalHost:{p}"),
             (f"http://localhost:{p}/7", "other"), (f"/8", f"127.0.0.1:{p}"), (f"/9", f"localhost:{p}")]
    s = connect(b.proxy, timeout=10)
    buf = bytearray()
    got = []
    try:
        for target, host in heads:
            s.sendall(f"GET {target} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            status, _, body = read_answer(s, buf)
            assert status == 200, (target, status, body)
            got.append(body.decode())
    finally:
        s.close()
    # An absolute-form target's authority goes upstream as berth canonicalised it (lowercased), a Host as sent.
    assert got == [f"localhost:{p}", f"LOCALHOST:{p}", f"localhost:{p}", f"localhost:{p}", f"localhost:{p}",
                   f"LocalHost:{p}", f"localhost:{p}", f"127.0.0.1:{p}", f"localhost:{p}"], got
    assert upstream_stats(b, f"localhost:{p}")["requests"] == 8
    assert upstream_stats(b, f"127.0.0.1:{p}")["requests"] == 1


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
