"""Tunnels obey the pool's limits (issue 23, item 8): CONNECT and Upgrade tunnels hold a slot of max-total and
max-per-route for their whole life, wait or are refused like requests, and a paused upstream holds or rejects them."""
import threading
import time

from berthkit import RawClient, admin_json, get_req, keepalive_loop, stats, upstream_stats, wait_for
from hostile_wire import connect, header_of, read_to_end, status_of

BUSY_CAUSES = ("pool-timeout", "queue-full")


def _counting_echo(raw_origin):
    """An echo origin whose `max_active` is the most connections it held at once (each leaves before it closes)."""
    def handler(conn):
        conn.origin.enter()
        try:
            while True:
                data = conn.read_some()
                if not data:
                    return
                conn.sendall(data)
        finally:
            conn.origin.leave()

    return raw_origin(handler)


def _connect_head(s):
    """Reads berth's answer head to a CONNECT: (status, head bytes)."""
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(4096)
        if not chunk:
            break
        head += chunk
    return status_of(head), head


def _tunnel_once(b, o, hold, results, i):
    """One caller: CONNECT, echo a word, hold the tunnel `hold` seconds, close; its outcome goes to results[i]."""
    s = connect(b.proxy, timeout=30)
    try:
        s.sendall(f"CONNECT {o.hostport} HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
        status, head = _connect_head(s)
        if status != 200:
            results[i] = (status, header_of(head, "Berth-Error"))
            return
        word = f"ping-{i}".encode()
        s.sendall(word)
        got = b""
        while len(got) < len(word):
            chunk = s.recv(4096)
            assert chunk, "tunnel closed early"
            got += chunk
        assert got == word, got
        time.sleep(hold)
        results[i] = (200, None)
    except Exception as e:  # noqa: BLE001 - reported through results
        results[i] = ("error", repr(e))
    finally:
        s.close()


def _run_tunnels(b, o, n, hold):
    results = [None] * n
    threads = [threading.Thread(target=_tunnel_once, args=(b, o, hold, results, i), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads), "a tunnel thread did not finish"
    return results


def _settled(b, hostport):
    """Waits for the upstream to have nothing open, busy or connecting; returns its stats."""
    return wait_for(lambda: (lambda up: up if up and up["open"] == 0 and up["busy"] == 0 and up["connecting"] == 0
                             and up["pending"] == 0 else None)(upstream_stats(b, hostport)),
                    timeout=15, what="the upstream's tunnels to be given back")


def test_forty_tunnels_under_max_total_ten_never_hold_more_than_ten_connections(berth, raw_origin):
    o = _counting_echo(raw_origin)
    b = berth("--connect-port", str(o.port), "--max-total", "10", "--max-per-route", "10", "--acquire-timeout", "20s")
    results = _run_tunnels(b, o, 40, hold=0.2)
    assert o.max_active <= 10, f"the origin held {o.max_active} connections at once"
    assert all(r == (200, None) for r in results), results
    up = _settled(b, o.hostport)
    closed = sum(up["connections"]["closed"].values())
    assert up["connections"]["opened"] == 40 and closed == 40, up["connections"]
    assert stats(b)["totals"]["tunnels"] == 40


def test_tunnels_beyond_the_queue_are_refused_with_a_pool_cause(berth, raw_origin):
    o = _counting_echo(raw_origin)
    b = berth("--connect-port", str(o.port), "--max-total", "4", "--max-per-route", "4", "--max-pending", "4",
              "--acquire-timeout", "20s")
    results = _run_tunnels(b, o, 20, hold=1.0)
    assert o.max_active <= 4, o.max_active
    refused = [r for r in results if r[0] != 200]
    assert refused and all(r[0] == 503 and r[1] in BUSY_CAUSES for r in refused), results
    assert sum(1 for r in results if r == (200, None)) >= 4, results
    _settled(b, o.hostport)


def test_max_per_route_bounds_tunnels_to_one_destination(berth, raw_origin):
    o = _counting_echo(raw_origin)
    b = berth("--connect-port", str(o.port), "--max-per-route", "2", "--acquire-timeout", "20s")
    results = _run_tunnels(b, o, 8, hold=0.2)
    assert o.max_active <= 2, o.max_active
    assert all(r == (200, None) for r in results), results
    _settled(b, o.hostport)


def test_a_paused_upstream_rejects_a_connect_with_upstream_paused(berth, raw_origin):
    o = _counting_echo(raw_origin)
    b = berth("--connect-port", str(o.port))
    admin_json(b, "POST", f"/pause?upstream={o.hostport}&mode=reject")
    s = connect(b.proxy, timeout=15)
    try:
        s.sendall(f"CONNECT {o.hostport} HTTP/1.1\r\nHost: {o.hostport}\r\n\r\nafter".encode())
        raw, how = read_to_end(s, timeout=10)
    finally:
        s.close()
    assert status_of(raw) == 503 and header_of(raw, "Berth-Error") == "upstream-paused", raw[:300]
    assert how == "fin", how
    assert o.connections == 0


def test_a_paused_upstream_holds_a_connect_until_resume(berth, raw_origin):
    o = _counting_echo(raw_origin)
    b = berth("--connect-port", str(o.port), "--acquire-timeout", "20s")
    admin_json(b, "POST", f"/pause?upstream={o.hostport}")
    results = [None]
    t = threading.Thread(target=_tunnel_once, args=(b, o, 0, results, 0), daemon=True)
    t.start()
    wait_for(lambda: (upstream_stats(b, o.hostport) or {}).get("pending") == 1, timeout=10, what="the CONNECT to be held")
    assert o.connections == 0
    admin_json(b, "POST", f"/resume?upstream={o.hostport}")
    t.join(30)
    assert results == [(200, None)], results
    _settled(b, o.hostport)


def _upgrade_origin(raw_origin):
    def handler(conn):
        msg = conn.read_request_head()
        if msg is None:
            return
        if msg.header("Upgrade"):
            conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n")
            while True:
                data = conn.read_some()
                if not data:
                    return
                conn.sendall(data)
        conn.respond(200, b"plain")
        keepalive_loop(lambda c, m: c.respond(200, b"plain"))(conn)

    return raw_origin(handler)


def test_an_upgrade_tunnel_keeps_its_slot_until_it_ends(berth, raw_origin):
    o = _upgrade_origin(raw_origin)
    b = berth("--max-per-route", "1", "--acquire-timeout", "1s")
    c = RawClient(b.proxy, timeout=15)
    try:
        c.sendall(get_req(o.hostport, "/ws", b"Connection: Upgrade\r\nUpgrade: test\r\n"))
        assert c.read_response().status == 101
        c.sendall(b"hi")
        assert c.read_exact(2) == b"hi"
        # The tunnel still holds the route's one slot: a request waits, then gets the pool's cause.
        r = RawClient(b.proxy, timeout=15).request(get_req(o.hostport, "/busy"))
        assert r.status == 503 and r.header("Berth-Error") == "pool-timeout", r
    finally:
        c.close()
    _settled(b, o.hostport)
    r = RawClient(b.proxy, timeout=15).request(get_req(o.hostport, "/free"))
    assert r.status == 200 and r.body == b"plain", r
