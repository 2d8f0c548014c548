"""Ports that name no destination (targets item 1): port 0 in absolute-form, Host or CONNECT is 400 bad-request
before any pool or connect, as are ports out of range, signed or empty; berth never makes a pool for such a port."""
import pytest

from berthkit import RawClient, admin_json, stats
from hostile_wire import connect, read_to_end, status_of


def _answer(b, data):
    c = RawClient(b.proxy, timeout=10)
    try:
        c.sendall(data)
        return c.read_response()
    finally:
        c.close()


def _known_upstreams(b):
    return {u["upstream"] for u in admin_json(b, "GET", "/stats")["upstreams"]}


@pytest.mark.parametrize("host", ["127.0.0.1:0", "localhost:0", "[::1]:0", "127.0.0.1:00000"])
def test_port_zero_in_absolute_form_is_400_without_a_pool(berth, host):
    b = berth()
    r = _answer(b, f"GET http://{host}/ HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    assert r.status == 400 and r.header("Berth-Error") == "bad-request", r
    assert b"port 0" in r.body, r.body
    assert _known_upstreams(b) == set()
    assert stats(b)["totals"]["errors"]["connect-refused"] == 0


def test_port_zero_in_host_is_400_without_a_pool(berth):
    b = berth()
    r = _answer(b, b"GET /x HTTP/1.1\r\nHost: 127.0.0.1:0\r\n\r\n")
    assert r.status == 400 and r.header("Berth-Error") == "bad-request", r
    assert b"port 0" in r.body, r.body
    assert _known_upstreams(b) == set()


def test_connect_to_port_zero_is_400_and_closes(berth):
    b = berth()
    s = connect(b.proxy, timeout=10)
    try:
        s.sendall(b"CONNECT 127.0.0.1:0 HTTP/1.1\r\nHost: 127.0.0.1:0\r\n\r\n")
        raw, how = read_to_end(s, timeout=10)
    finally:
        s.close()
    assert status_of(raw) == 400 and b"Berth-Error: bad-request" in raw, raw[:300]
    assert b"port 0" in raw, raw
    assert _known_upstreams(b) == set()


@pytest.mark.parametrize("port", ["65536", "99999", "+80", "-1", "", "8a", "000080000"])
def test_ports_out_of_range_signed_or_empty_are_400(berth, port):
    # The codec refuses these authorities (RFC 3986 port = *DIGIT, at most 65535; berth also refuses the empty
    # port, which nginx reads as the default): in the target and in Host alike.
    b = berth()
    host = f"127.0.0.1:{port}"
    for data in (f"GET http://{host}/ HTTP/1.1\r\nHost: {host}\r\n\r\n".encode(),
                 f"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()):
        s = connect(b.proxy, timeout=10)
        try:
            s.sendall(data)
            raw, how = read_to_end(s, timeout=10)
        finally:
            s.close()
        assert status_of(raw) == 400 and b"Berth-Error: bad-request" in raw, (data, raw[:300])
    assert _known_upstreams(b) == set()
