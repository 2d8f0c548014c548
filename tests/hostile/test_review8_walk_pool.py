"""Review of the walk (30415bc, 706b85e), around the send: a GET retried after its reused connection died, a request
granted after a pause (a posted grant), the dead-peer check of a bodiless request on a vanished connection, the route
cache over one connection's spellings, and what the access log and /stats say of each request once the exchange is
cleared at its end rather than at the next head."""
import threading
import time

import pytest

from berthkit import admin_json, keepalive_loop, upstream_stats, wait_for
from hostile_wire import connect
from review8_wire import access_lines, echoing, read_answer, request_bytes, wait_upstream_idle


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


def test_callers_sharing_one_connection_take_turns_through_posted_grants(berth, raw_origin):
    """Eight callers, one connection allowed (--max-per-route 1): each release grants the connection to a queued
    request in a posted event, whose bodiless send then runs from there. Every request is answered with its own body,
    in order per caller, and /stats counts each once."""
    o = echoing(raw_origin)
    b = berth("--max-per-route", "1", "--acquire-timeout", "10s")
    errors = []

    def caller(n):
        try:
            s = connect(b.proxy, timeout=15)
            buf = bytearray()
            try:
                for i in range(15):
                    method = "HEAD" if i % 5 == 4 else "GET"
                    s.sendall(request_bytes(o.port, method, f"/{n}/{i}"))
                    status, _, body = read_answer(s, buf, head_only=method == "HEAD")
                    if status != 200 or (method == "GET" and body != f"GET /{n}/{i} ".encode()):
                        errors.append((n, i, status, body))
            finally:
                s.close()
        except Exception as e:  # surfaced by the assert below
            errors.append((n, repr(e)))
    threads = [threading.Thread(target=caller, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors[:5]
    up = upstream_stats(b, f"127.0.0.1:{o.port}")
    assert up["requests"] == 120 and up["open"] == 1, up
