"""Forwarding loops (issue 23, item 1): a request addressed to berth itself, directly or through another proxy, is 508."""
import re
import socket

from berthkit import RawClient, free_port, keepalive_loop, stats, upstream_stats
from hostile_wire import connect, read_to_end, status_of

LOOP = "forwarding-loop"


def _one_response(addr, data):
    """Sends `data` on a fresh caller connection and reads one response (generous timeout: an old berth loops ~10 s)."""
    c = RawClient(addr, timeout=30)
    try:
        c.sendall(data)
        return c.read_response()
    finally:
        c.close()


def _non_loopback_address():
    """A local IPv4 address outside 127.0.0.0/8 (the route's source address; no packet is sent), or None."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("192.0.2.77", 9))
        addr = s.getsockname()[0]
    except OSError:
        return None
    finally:
        s.close()
    return None if addr.startswith("127.") else addr


def test_absolute_form_to_own_proxy_port_is_508_without_a_connection(berth):
    b = berth()
    host = f"127.0.0.1:{b.proxy[1]}"
    r = _one_response(b.proxy, f"GET http://{host}/ HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    assert r.status == 508, r
    assert r.header("Berth-Error") == LOOP, r
    s = stats(b)
    # Only the test's own caller connection was ever accepted: berth never connected to itself.
    assert s["totals"]["callers_accepted"] == 1, s["totals"]
    assert s["totals"]["errors"][LOOP] == 1, s["totals"]["errors"]


def test_admin_api_through_the_proxy_is_508_and_pauses_nothing(berth, raw_origin):
    o = raw_origin(keepalive_loop(lambda conn, msg: conn.respond(200, b"ok")))
    b = berth()
    admin = f"127.0.0.1:{b.admin[1]}"
    r = _one_response(b.proxy, (f"POST http://{admin}/pause?upstream={o.hostport}&mode=reject HTTP/1.1\r\n"
                                f"Host: {admin}\r\nContent-Length: 0\r\n\r\n").encode())
    assert r.status == 508, r
    assert r.header("Berth-Error") == LOOP, r
    up = upstream_stats(b, o.hostport)
    assert up is None or up["state"] != "paused", up
    ok = _one_response(b.proxy, f"GET http://{o.hostport}/ HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
    assert ok.status == 200 and ok.body == b"ok", ok


def test_a_name_that_resolves_to_berth_is_caught_after_resolution(berth):
    b = berth()
    host = f"localhost:{b.proxy[1]}"
    r = _one_response(b.proxy, f"GET http://{host}/x HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    assert r.status == 508 and r.header("Berth-Error") == LOOP, r
    assert stats(b)["totals"]["callers_accepted"] == 1


def test_a_wildcard_listener_refuses_every_local_address_on_its_port(berth):
    local = _non_loopback_address()
    allow = "127.0.0.0/8" + (f",{local}/32" if local else "")
    b = berth("--listen", "0.0.0.0:0", "--allow", allow)
    port = b.proxy[1]
    for host in ["127.0.0.1", "127.0.0.2"] + ([local] if local else []):
        r = _one_response(("127.0.0.1", port), f"GET http://{host}:{port}/ HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
        assert r.status == 508 and r.header("Berth-Error") == LOOP, (host, r)
    assert stats(b)["totals"]["callers_accepted"] == 2 + (1 if local else 0)


def test_a_unix_destination_that_is_berths_own_socket_is_508(berth, tmp_path):
    sock = str(tmp_path / "p.sock")
    conf = tmp_path / "berth.yaml"
    conf.write_text(f"destinations:\n  - {{match: \"fn-1:80\", unix: {sock}}}\n")
    b = berth("--config", str(conf), "--listen", f"unix:{sock}")
    s = connect(sock, timeout=30)
    try:
        s.sendall(b"GET http://fn-1:80/ HTTP/1.1\r\nHost: fn-1:80\r\nConnection: close\r\n\r\n")
        raw, how = read_to_end(s, timeout=30)
    finally:
        s.close()
    assert status_of(raw) == 508 and b"Berth-Error: forwarding-loop" in raw, raw[:300]
    assert stats(b)["totals"]["callers_accepted"] == 1


def _own_via(b, raw_origin):
    """The Via value berth adds, as an origin sees it."""
    seen = []

    def respond(conn, msg):
        seen.append(msg.header("Via"))
        conn.respond(200, b"ok")

    o = raw_origin(keepalive_loop(respond))
    r = _one_response(b.proxy, f"GET http://{o.hostport}/ HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
    assert r.status == 200, r
    return o, seen[0]


def test_own_via_token_on_an_incoming_request_is_508(berth, raw_origin):
    b = berth()
    o, via = _own_via(b, raw_origin)
    # Unique per instance: the configured value with a per-process token in its received-by.
    assert re.fullmatch(r"1\.1 berth-[0-9a-f]{8,}", via), via
    before = len(o.requests)
    r = _one_response(b.proxy, (f"GET http://{o.hostport}/again HTTP/1.1\r\nHost: {o.hostport}\r\n"
                                f"Via: 1.0 fred, {via}\r\n\r\n").encode())
    assert r.status == 508 and r.header("Berth-Error") == LOOP, r
    assert len(o.requests) == before, "the looping request reached the origin"


def test_another_proxys_via_passes(berth, raw_origin):
    b = berth()
    o, via = _own_via(b, raw_origin)
    # Another berth's token, a plain `1.1 berth` and an unrelated proxy are not this instance.
    for other in ("1.1 berth", "1.1 berth-00000000", "1.0 fred, 1.1 squid (squid/5.7)", via + "0", "1.1 x" + via.split()[1]):
        r = _one_response(b.proxy, (f"GET http://{o.hostport}/ok HTTP/1.1\r\nHost: {o.hostport}\r\n"
                                    f"Via: {other}\r\n\r\n").encode())
        assert r.status == 200 and r.body == b"ok", (other, r)


def test_the_caller_connection_stays_open_after_a_508(berth, raw_origin):
    o = raw_origin(keepalive_loop(lambda conn, msg: conn.respond(200, b"ok")))
    b = berth()
    host = f"127.0.0.1:{b.proxy[1]}"
    c = RawClient(b.proxy, timeout=30)
    try:
        c.sendall(f"GET http://{host}/ HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
                  + f"GET http://{o.hostport}/ HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
        assert c.read_response().status == 508
        r = c.read_response()
        assert r.status == 200 and r.body == b"ok", r
    finally:
        c.close()


def test_a_connect_to_the_admin_port_is_508_and_closes(berth):
    port = free_port()
    b = berth("--admin", f"127.0.0.1:{port}", "--connect-port", str(port))
    s = connect(b.proxy, timeout=30)
    try:
        s.sendall(f"CONNECT 127.0.0.1:{port} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
                  f"POST /pause?upstream=127.0.0.1:1 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        raw, how = read_to_end(s, timeout=30)
    finally:
        s.close()
    assert status_of(raw) == 508 and b"Berth-Error: forwarding-loop" in raw, raw[:300]
    assert raw.count(b"HTTP/1.1 ") == 1 and how == "fin", (how, raw)
    assert upstream_stats(b, "127.0.0.1:1") is None, "the admin API saw the request"
