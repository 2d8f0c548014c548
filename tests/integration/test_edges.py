"""Further edge cases around the spec: header timeout, bad upstream responses, pool housekeeping, queueing."""
import os
import threading
import time

import pytest

from berthkit import RawClient, get_req, keepalive_loop, raw_request, upstream_stats, wait_upstream


def test_header_timeout_408(berth, origin):
    b = berth("--header-timeout", "500ms")
    c = RawClient(b.proxy)
    try:
        t0 = time.monotonic()
        c.sendall(f"GET http://{origin.hostport}/slowhead HTTP/1.1\r\nHost: ".encode())
        r = c.read_response()
        elapsed = time.monotonic() - t0
        assert r.status == 408, r
        assert r.header("Berth-Error") == "header-timeout", r
        assert 0.4 <= elapsed < 3.0, elapsed
    finally:
        c.close()
    assert origin.requests == []


def test_invalid_upstream_response_502(berth, raw_origin):
    def handler(conn):
        conn.read_request_head()
        conn.sendall(b"NOT HTTP AT ALL\r\n\r\n")

    o = raw_origin(handler)
    b = berth()
    r = raw_request(b.proxy, get_req(o.hostport, "/bad"))
    assert r.status == 502, r
    assert r.header("Berth-Error") == "invalid-response", r


def test_upstream_dies_mid_body_caller_connection_closed(berth, raw_origin, origin):
    def handler(conn):
        conn.read_request_head()
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"a" * 1000)
        time.sleep(0.2)

    o = raw_origin(handler)
    b = berth("--socket-timeout", "5s")
    c = RawClient(b.proxy)
    try:
        c.sendall(get_req(o.hostport, "/trunc"))
        head = c.read_until(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), head
        # It must end (berth cuts the caller), not hang until our 10s timeout; a Content-Length body cannot show
        # the cut, so the end is a reset, not a FIN that would make the body look complete (issue 23).
        got, how = c.read_until_cut()
        assert len(got) < 100000 and how == "reset", (len(got), how)
    finally:
        c.close()
    r = raw_request(b.proxy, get_req(origin.hostport, "/next"))
    assert r.status == 200


def test_idle_timeout_closes_pooled_connection(berth, origin):
    b = berth("--idle-timeout", "500ms")
    r = raw_request(b.proxy, get_req(origin.hostport, "/idle"))
    assert r.status == 200
    up = wait_upstream(b, origin.hostport, lambda u: u["connections"]["closed"]["idle-timeout"] == 1,
                       timeout=5, what="idle-timeout close")
    assert up["open"] == 0, up
    r = raw_request(b.proxy, get_req(origin.hostport, "/idle2"))
    assert r.status == 200
    assert len(set(origin.client_ports)) == 2


def test_max_requests_per_connection(berth, origin):
    b = berth("--max-requests-per-connection", "3")
    for i in range(7):
        assert raw_request(b.proxy, get_req(origin.hostport, f"/m/{i}")).status == 200
    assert len(set(origin.client_ports)) == 3
    up = upstream_stats(b, origin.hostport)
    assert up["connections"]["opened"] == 3, up
    assert up["connections"]["closed"]["max-requests"] == 2, up


def test_caller_connection_close_keeps_upstream_pooled(berth, origin):
    b = berth()
    for i in range(3):
        c = RawClient(b.proxy)
        try:
            r = c.request(get_req(origin.hostport, f"/cc/{i}", b"Connection: close\r\n"))
            assert r.status == 200, r
            assert (r.header("Connection") or "").lower() == "close", r
            assert c.is_closed(3.0)
        finally:
            c.close()
    assert len(set(origin.client_ports)) == 1
    assert origin.requests[0][2].get("Connection") in (None, "keep-alive"), origin.requests[0][2]


def test_upstream_connection_close_not_reused_caller_kept(berth, raw_origin):
    def respond(conn, msg):
        conn.respond(200, msg.target.encode(), [("Connection", "close")])
        raise EOFError

    o = raw_origin(keepalive_loop(respond))
    b = berth()
    c = RawClient(b.proxy)
    try:
        for i in range(3):
            r = c.request(get_req(o.hostport, f"/uc/{i}"))
            assert r.status == 200 and r.body == f"/uc/{i}".encode(), r
    finally:
        c.close()
    up = upstream_stats(b, o.hostport)
    assert up["connections"]["opened"] == 3 and up["connections"]["reused"] == 0, up
    assert up["retries"] == 0 and all(v == 0 for v in up["failures"].values()), up


def test_pending_queue_is_fifo(berth, origin):
    b = berth("--max-per-route", "1", "--acquire-timeout", "10s", "--socket-timeout", "5s")
    fns = []
    results = {}
    threads = []

    def go(name, path):
        results[name] = raw_request(b.proxy, get_req(origin.hostport, path), timeout=20)

    t = threading.Thread(target=go, args=("first", "/sleep/1"), daemon=True)
    t.start()
    threads.append(t)
    wait_upstream(b, origin.hostport, lambda u: u["busy"] == 1, what="first busy")
    for i, name in enumerate("abcde"):
        t = threading.Thread(target=go, args=(name, f"/q/{name}"), daemon=True)
        t.start()
        threads.append(t)
        wait_upstream(b, origin.hostport, lambda u, n=i + 1: u["pending"] == n, what=f"{i + 1} pending")
    for t in threads:
        t.join(20)
    assert all(results[n].status == 200 for n in ["first", *"abcde"]), results
    assert [p for _, p, _ in origin.requests] == ["/sleep/1"] + [f"/q/{n}" for n in "abcde"]


def test_pending_queue_bounded(berth, origin):
    """Ambiguity: the spec says the queue is bounded but not how overflow is answered; the stats schema has a
    queue-full cause, so a 503 with Berth-Error: queue-full is expected."""
    b = berth("--max-per-route", "1", "--max-pending", "1", "--acquire-timeout", "10s", "--socket-timeout", "5s")
    results = {}

    def go(name, path):
        results[name] = raw_request(b.proxy, get_req(origin.hostport, path), timeout=20)

    t1 = threading.Thread(target=go, args=("busy", "/sleep/1"), daemon=True)
    t1.start()
    wait_upstream(b, origin.hostport, lambda u: u["busy"] == 1, what="busy")
    t2 = threading.Thread(target=go, args=("queued", "/queued"), daemon=True)
    t2.start()
    wait_upstream(b, origin.hostport, lambda u: u["pending"] == 1, what="pending")
    t0 = time.monotonic()
    r = raw_request(b.proxy, get_req(origin.hostport, "/overflow"))
    assert time.monotonic() - t0 < 1.0
    assert r.status == 503, r
    assert r.header("Berth-Error") == "queue-full", r
    t1.join(20)
    t2.join(20)
    assert results["busy"].status == 200 and results["queued"].status == 200


def test_caller_abort_mid_response_does_not_break_next_request(berth, raw_origin):
    payload = os.urandom(4 << 20)

    def respond(conn, msg):
        conn.respond(200, payload if msg.target == "/big" else b"small")

    o = raw_origin(keepalive_loop(respond))
    b = berth("--socket-timeout", "5s")
    c = RawClient(b.proxy)
    c.sendall(get_req(o.hostport, "/big"))
    c.read_exact(1000)
    c.close()
    time.sleep(0.3)
    for i in range(3):
        r = raw_request(b.proxy, get_req(o.hostport, "/small"))
        assert r.status == 200 and r.body == b"small", r


def test_pipelined_across_upstreams_and_errors_stay_in_order(berth, origin, raw_origin):
    from berthkit import free_port
    fast = raw_origin(keepalive_loop(lambda conn, msg: conn.respond(200, b"fast " + msg.target.encode())))
    dead = f"127.0.0.1:{free_port()}"
    b = berth("--socket-timeout", "5s")
    c = RawClient(b.proxy)
    try:
        c.sendall(get_req(origin.hostport, "/sleep/0.5/slow") + get_req(fast.hostport, "/f1")
                  + get_req(dead, "/dead") + get_req(fast.hostport, "/f2"))
        r1, r2, r3 = c.read_response(), c.read_response(), c.read_response()
        assert r1.body == b"hello /sleep/0.5/slow", r1
        assert r2.body == b"fast /f1", r2
        assert r3.status == 502 and r3.header("Berth-Error") == "connect-refused", r3
        if (r3.header("Connection") or "").lower() != "close":
            r4 = c.read_response()
            assert r4.body == b"fast /f2", r4
    finally:
        c.close()


def test_retry_happens_only_once(berth, raw_origin):
    state = {"n": 0}
    lock = threading.Lock()

    def handler(conn):
        with lock:
            state["n"] += 1
            first_conn = state["n"] == 1
        if first_conn:
            msg = conn.read_request()
            conn.respond(200, b"primed")
        msg = conn.read_request_head()  # every later request, on any connection, dies unanswered

    o = raw_origin(handler)
    b = berth("--idle-timeout", "30s", "--socket-timeout", "5s")
    assert raw_request(b.proxy, get_req(o.hostport, "/prime")).body == b"primed"
    wait_upstream(b, o.hostport, lambda u: u["idle"] == 1, what="idle")
    r = raw_request(b.proxy, get_req(o.hostport, "/again"))
    assert r.status == 502 and r.header("Berth-Error") == "upstream-reset", r
    time.sleep(0.2)
    assert [m.target for _, m in o.requests].count("/again") == 2, [m.target for _, m in o.requests]
    assert upstream_stats(b, o.hostport)["retries"] == 1


def test_head_response_with_chunked_header_has_no_body(berth, raw_origin):
    def respond(conn, msg):
        if msg.method == "HEAD":
            conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        else:
            conn.respond(200, b"after-head")

    o = raw_origin(keepalive_loop(respond))
    b = berth()
    c = RawClient(b.proxy)
    try:
        r = c.request(get_req(o.hostport, "/h", method="HEAD"), "HEAD")
        assert r.status == 200, r
        r = c.request(get_req(o.hostport, "/g"))
        assert r.status == 200 and r.body == b"after-head", r
    finally:
        c.close()
    assert o.connections == 1


def test_103_early_hints_forwarded_promptly_then_final_response(berth, raw_origin):
    """1xx interim responses must be passed on when they arrive, not held back until the final response."""
    def respond(conn, msg):
        conn.sendall(b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n")
        time.sleep(1.5)
        conn.respond(200, b"final")

    o = raw_origin(keepalive_loop(respond))
    b = berth("--socket-timeout", "5s")
    c = RawClient(b.proxy)
    try:
        t0 = time.monotonic()
        c.sendall(get_req(o.hostport, "/eh"))
        first = c.read_response(allow_interim=True)
        interim_at = time.monotonic() - t0
        assert first.status == 103, first
        assert first.header("Link") == "</s.css>; rel=preload", first
        final = c.read_response()
        assert final.status == 200 and final.body == b"final", final
        assert interim_at < 1.0, f"103 reached the caller only after {interim_at:.2f}s (with the final response)"
        r = c.request(get_req(o.hostport, "/eh2"))
        assert r.status == 200 and r.body == b"final", r
    finally:
        c.close()


def test_stale_connection_reset_with_rst_is_retried(berth, raw_origin):
    import socket as _s
    import struct

    def handler(conn):
        first = conn.read_request()
        if first is None:
            return
        conn.respond(200, b"fresh")
        conn.read_request_head()
        conn.sock.setsockopt(_s.SOL_SOCKET, _s.SO_LINGER, struct.pack("ii", 1, 0))  # close -> RST

    o = raw_origin(handler)
    b = berth("--idle-timeout", "30s", "--socket-timeout", "5s")
    assert raw_request(b.proxy, get_req(o.hostport, "/1")).status == 200
    wait_upstream(b, o.hostport, lambda u: u["idle"] == 1, what="idle")
    r = raw_request(b.proxy, get_req(o.hostport, "/2"))
    assert r.status == 200 and r.body == b"fresh", r
    assert upstream_stats(b, o.hostport)["retries"] == 1


@pytest.mark.parametrize("path,head", [
    ("/clte", b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
    ("/dupcl", b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nhello"),
], ids=["cl-and-te", "conflicting-cl"])
def test_ambiguous_upstream_framing_is_invalid_response_and_connection_dropped(berth, raw_origin, path, head):
    def respond(conn, msg):
        if msg.target == path:
            conn.sendall(head)
        else:
            conn.respond(200, b"clean")

    o = raw_origin(keepalive_loop(respond))
    b = berth()
    c = RawClient(b.proxy)
    try:
        c.sendall(get_req(o.hostport, path) + get_req(o.hostport, "/after"))
        r = c.read_response()
        assert r.status == 502 and r.header("Berth-Error") == "invalid-response", r
        if (r.header("Connection") or "").lower() != "close":
            r2 = c.read_response()
            assert r2.status == 200 and r2.body == b"clean", r2
    finally:
        c.close()
    ports = [p for p, m in o.requests if m.target == "/after"]
    first = [p for p, m in o.requests if m.target == path]
    assert not ports or ports[0] != first[0], "the upstream connection with ambiguous framing was reused"


@pytest.mark.parametrize("extra,path,status", [
    (b"X-Big: " + b"a" * 70000 + b"\r\n", "/big", 431),
    (b"", "/" + "u" * 10000, 414),
    (b"", "/v", 505),
], ids=["header-431", "uri-414", "version-505"])
def test_codec_limits_answer_with_bad_request_cause(berth, origin, extra, path, status):
    b = berth()
    data = get_req(origin.hostport, path, extra)
    if status == 505:
        data = data.replace(b"HTTP/1.1\r\n", b"HTTP/2.0\r\n", 1)
    c = RawClient(b.proxy)
    try:
        try:
            c.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        r = c.read_response()
        assert r.status == status, r
        assert r.header("Berth-Error") == "bad-request", r
    finally:
        c.close()
    assert origin.requests == []
