"""Connection pooling, limits, timeouts and retries."""
import threading
import time

import pytest
import requests

from berthkit import (RawClient, free_port, get_req, keepalive_loop, raw_request, run_threads, stats, upstream_stats,
                      wait_upstream)


def proxies(b):
    return {"http": b.proxy_url, "https": b.proxy_url}


# 1 -----------------------------------------------------------------------------------------------------------------

def test_sequential_requests_one_caller_connection_reuse_one_upstream_connection(berth, origin):
    b = berth()
    c = RawClient(b.proxy)
    try:
        for i in range(100):
            r = c.request(get_req(origin.hostport, f"/seq/{i}"))
            assert r.status == 200, r
            assert r.body == f"hello /seq/{i}".encode()
    finally:
        c.close()
    assert len(origin.requests) == 100
    assert len(set(origin.client_ports)) == 1, sorted(set(origin.client_ports))
    up = upstream_stats(b, origin.hostport)
    assert up["connections"]["opened"] == 1, up
    assert up["connections"]["reused"] == 99, up
    assert up["requests"] == 100, up


def test_sequential_requests_separate_caller_connections_reuse_one_upstream_connection(berth, origin):
    b = berth()
    for i in range(100):
        r = raw_request(b.proxy, get_req(origin.hostport, f"/sep/{i}"))
        assert r.status == 200, r
        assert r.body == f"hello /sep/{i}".encode()
    assert len(origin.requests) == 100
    assert len(set(origin.client_ports)) == 1, sorted(set(origin.client_ports))
    up = upstream_stats(b, origin.hostport)
    assert up["connections"]["opened"] == 1, up
    assert up["connections"]["reused"] == 99, up


def test_sequential_requests_python_requests_session(berth, origin):
    """Same through python-requests (keep-alive session) to check the caller side framing as a real client sees it."""
    b = berth()
    with requests.Session() as s:
        for i in range(100):
            r = s.get(f"http://{origin.hostport}/rq/{i}", proxies=proxies(b), timeout=10)
            assert r.status_code == 200
            assert r.content == f"hello /rq/{i}".encode()
    assert len(set(origin.client_ports)) == 1
    up = upstream_stats(b, origin.hostport)
    assert (up["connections"]["opened"], up["connections"]["reused"]) == (1, 99), up


# 2 -----------------------------------------------------------------------------------------------------------------

def test_upstream_closing_idle_connection_is_noticed(berth, raw_origin):
    def handler(conn):
        msg = conn.read_request()
        if msg is None:
            return
        conn.respond(200, b"once", [("Connection", "keep-alive")])
        time.sleep(0.2)  # then close while berth holds it idle

    o = raw_origin(handler)
    b = berth("--idle-timeout", "30s")
    r = raw_request(b.proxy, get_req(o.hostport, "/first"))
    assert r.status == 200 and r.body == b"once", r
    closed_at = time.monotonic()
    up = wait_upstream(b, o.hostport,
                       lambda u: u["connections"]["closed"]["peer-closed-idle"] == 1 and u["open"] == 0,
                       timeout=3.0, what="peer-closed-idle == 1 and open == 0")
    assert time.monotonic() - closed_at < 3.0
    assert up["idle"] == 0, up

    r = raw_request(b.proxy, get_req(o.hostport, "/second"))
    assert r.status == 200 and r.body == b"once", r
    up = upstream_stats(b, o.hostport)
    assert up["connections"]["opened"] == 2, up
    assert up["retries"] == 0, up
    assert all(v == 0 for v in up["failures"].values()), up["failures"]
    assert o.connections == 2
    assert len(o.requests) == 2


# 3 -----------------------------------------------------------------------------------------------------------------

def _slow_origin(raw_origin, delay=1.0):
    def respond(conn, msg):
        conn.origin.enter()
        try:
            time.sleep(delay)
        finally:
            conn.origin.leave()
        conn.respond(200, f"slow {msg.target}".encode())

    return raw_origin(keepalive_loop(respond))


def test_max_per_route_caps_concurrent_upstream_connections(berth, raw_origin):
    o = _slow_origin(raw_origin, 1.0)
    b = berth("--max-per-route", "2", "--acquire-timeout", "10s", "--socket-timeout", "5s")
    t0 = time.monotonic()
    results = run_threads([lambda i=i: raw_request(b.proxy, get_req(o.hostport, f"/c/{i}"), timeout=30)
                           for i in range(10)], timeout=60)
    elapsed = time.monotonic() - t0
    for i, r in enumerate(results):
        assert not isinstance(r, Exception), f"request {i} raised {r!r}"
        assert r.status == 200, (i, r)
        assert r.body == f"slow /c/{i}".encode() or r.body.startswith(b"slow /c/"), r
    assert sorted(r.body for r in results) == sorted(f"slow /c/{i}".encode() for i in range(10))
    assert o.max_active <= 2, f"origin saw {o.max_active} concurrent requests"
    assert len({port for port, _ in o.requests}) <= 2, {port for port, _ in o.requests}
    assert o.connections <= 2
    assert elapsed >= 4.5, f"10 x 1s requests over 2 connections finished in {elapsed:.2f}s"
    up = upstream_stats(b, o.hostport)
    assert up["connections"]["opened"] <= 2, up
    assert up["requests"] == 10, up


# 4 -----------------------------------------------------------------------------------------------------------------

def test_pool_timeout_gives_503(berth, origin):
    b = berth("--max-per-route", "1", "--acquire-timeout", "200ms", "--socket-timeout", "5s")
    slow = {}
    t = threading.Thread(target=lambda: slow.setdefault(
        "r", raw_request(b.proxy, get_req(origin.hostport, "/sleep/2"), timeout=15)), daemon=True)
    t.start()
    try:
        wait_upstream(b, origin.hostport, lambda u: u["busy"] == 1, timeout=5, what="busy == 1")
        t0 = time.monotonic()
        r = raw_request(b.proxy, get_req(origin.hostport, "/second"))
        elapsed = time.monotonic() - t0
        assert r.status == 503, r
        assert r.header("Berth-Error") == "pool-timeout", r
        assert 0.15 <= elapsed < 2.0, elapsed
    finally:
        t.join(15)
    assert slow.get("r") is not None and slow["r"].status == 200, slow
    assert [p for _, p, _ in origin.requests] == ["/sleep/2"], origin.requests
    up = upstream_stats(b, origin.hostport)
    assert up["failures"]["pool-timeout"] == 1, up


# 5 -----------------------------------------------------------------------------------------------------------------

def test_socket_timeout_against_silent_upstream(berth, raw_origin):
    def silent(conn):
        conn.read_request_head()
        conn.origin.stopped.wait(10)

    o = raw_origin(silent)
    b = berth("--socket-timeout", "500ms")
    t0 = time.monotonic()
    r = raw_request(b.proxy, get_req(o.hostport, "/never"))
    elapsed = time.monotonic() - t0
    assert r.status == 504, r
    assert r.header("Berth-Error") == "read-timeout", r
    assert 0.45 <= elapsed < 3.0, elapsed


def test_berth_socket_timeout_header_overrides_per_request(berth, raw_origin):
    def silent(conn):
        conn.read_request_head()
        conn.origin.stopped.wait(10)

    o = raw_origin(silent)
    b = berth("--socket-timeout", "5s")
    t0 = time.monotonic()
    r = raw_request(b.proxy, get_req(o.hostport, "/never", b"Berth-Socket-Timeout: 300ms\r\n"))
    elapsed = time.monotonic() - t0
    assert r.status == 504 and r.header("Berth-Error") == "read-timeout", r
    assert 0.25 <= elapsed < 3.0, elapsed


def test_berth_socket_timeout_header_capped_by_ceiling(berth, raw_origin):
    def silent(conn):
        conn.read_request_head()
        conn.origin.stopped.wait(10)

    o = raw_origin(silent)
    b = berth("--socket-timeout", "300ms", "--socket-timeout-ceiling", "600ms")
    t0 = time.monotonic()
    r = raw_request(b.proxy, get_req(o.hostport, "/never", b"Berth-Socket-Timeout: 30s\r\n"), timeout=20)
    elapsed = time.monotonic() - t0
    assert r.status == 504 and r.header("Berth-Error") == "read-timeout", r
    assert 0.5 <= elapsed < 3.5, elapsed


# 8 -----------------------------------------------------------------------------------------------------------------

def test_connect_refused_then_good_origin_succeeds(berth, origin):
    b = berth()
    dead = f"127.0.0.1:{free_port()}"
    c = RawClient(b.proxy)
    try:
        r = c.request(get_req(dead, "/nope"))
        assert r.status == 502, r
        assert r.header("Berth-Error") == "connect-refused", r
        # next request, on the same caller connection if berth kept it open, else a new one
        if c.is_closed(0.2):
            c.close()
            c = RawClient(b.proxy)
        r = c.request(get_req(origin.hostport, "/ok"))
        assert r.status == 200 and r.body == b"hello /ok", r
    finally:
        c.close()
    r = raw_request(b.proxy, get_req(origin.hostport, "/ok2"))
    assert r.status == 200, r
    assert stats(b)["totals"]["failures"]["connect-refused"] == 1


# 10 ----------------------------------------------------------------------------------------------------------------

def _stale_origin(raw_origin):
    """Answers the first request on each connection (keep-alive); closes, unanswered, when a 2nd one arrives."""
    def handler(conn):
        first = conn.read_request()
        if first is None:
            return
        conn.respond(200, f"fresh {first.method} {first.target} {first.body.decode()}".encode())
        second = conn.read_request_head()  # blocks while berth holds the connection idle: nothing to notice
        # returning closes the socket without a response byte

    return raw_origin(handler)


@pytest.mark.parametrize("method,extra,body,retried", [
    ("GET", b"", b"", True),
    ("HEAD", b"", b"", True),
    ("DELETE", b"", b"", True),
    ("PUT", b"", b"", True),
    ("POST", b"Idempotency-Key: k-123\r\nContent-Length: 0\r\n", b"", True),
    ("POST", b"", b"payload", False),
    ("PUT", b"", b"payload", False),
    ("POST", b"Content-Length: 0\r\n", b"", False),
])
def test_retry_on_stale_reused_connection(berth, raw_origin, method, extra, body, retried):
    o = _stale_origin(raw_origin)
    b = berth("--idle-timeout", "30s", "--socket-timeout", "5s")
    r = raw_request(b.proxy, get_req(o.hostport, "/prime"))
    assert r.status == 200 and r.body == b"fresh GET /prime ", r
    wait_upstream(b, o.hostport, lambda u: u["idle"] == 1, what="primed connection idle")
    time.sleep(0.1)
    r = raw_request(b.proxy, get_req(o.hostport, "/again", extra, method=method, body=body), method=method)
    up = upstream_stats(b, o.hostport)
    if retried:
        assert r.status == 200, r
        if method != "HEAD":
            assert r.body == f"fresh {method} /again ".encode(), r
        assert up["retries"] == 1, up
        assert o.connections == 2
        assert [m.target for _, m in o.requests].count("/again") == 2
    else:
        assert r.status == 502, r
        assert r.header("Berth-Error") == "upstream-reset", r
        assert up["retries"] == 0, up
        assert [m.target for _, m in o.requests].count("/again") == 1
        assert up["failures"]["upstream-reset"] == 1, up
