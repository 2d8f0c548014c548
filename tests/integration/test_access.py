"""Destination allow-list and CONNECT tunnels."""
import socket
import time

import pytest

from berthkit import RawClient, echo_handler, get_req, keepalive_loop, raw_request, stats


def test_destination_denied_by_allow_list(berth, origin):
    b = berth("--allow", "127.0.0.2/32")
    r = raw_request(b.proxy, get_req(origin.hostport, "/denied"))
    assert r.status == 403, r
    assert r.header("Berth-Error") == "destination-denied", r
    r = raw_request(b.proxy, f"GET /denied2 HTTP/1.1\r\nHost: {origin.hostport}\r\n\r\n".encode())
    assert r.status == 403 and r.header("Berth-Error") == "destination-denied", r
    time.sleep(0.2)
    assert origin.requests == []
    assert stats(b)["totals"]["errors"]["destination-denied"] == 2


def test_allowed_destination_passes(berth, raw_origin):
    try:
        o = raw_origin(keepalive_loop(lambda conn, msg: conn.respond(200, b"allowed")), host="127.0.0.2")
    except OSError as e:
        pytest.skip(f"cannot bind 127.0.0.2: {e}")
    b = berth("--allow", "127.0.0.2/32")
    r = raw_request(b.proxy, get_req(o.hostport, "/ok"))
    assert r.status == 200 and r.body == b"allowed", r


def test_connect_to_port_not_allowed_is_403(berth, raw_origin):
    o = raw_origin(echo_handler)
    b = berth()  # default --connect-port 443
    c = RawClient(b.proxy)
    try:
        c.sendall(f"CONNECT {o.hostport} HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
        r = c.read_response("GET")
        assert r.status == 403, r
    finally:
        c.close()
    time.sleep(0.2)
    assert o.connections == 0


def test_connect_tunnel_to_allowed_port(berth, raw_origin):
    o = raw_origin(echo_handler)
    b = berth("--connect-port", str(o.port))
    c = RawClient(b.proxy)
    try:
        c.sendall(f"CONNECT {o.hostport} HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
        r = c.read_response("CONNECT")
        assert 200 <= r.status < 300, r
        c.sendall(b"ping\x00\xff")
        got = b""
        while len(got) < 6:
            chunk = c.read_some()
            assert chunk, "tunnel closed"
            got += chunk
        assert got == b"ping\x00\xff"
        big = bytes(range(256)) * 4096  # 1 MB through the tunnel
        c.sendall(big)
        got = c.read_exact(len(big))
        assert got == big
    finally:
        c.close()
    assert stats(b)["totals"]["tunnels"] >= 1
