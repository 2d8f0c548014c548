"""A CONNECT or Upgrade that does not become a tunnel (issue 23, item 5): berth answers, then closes; later bytes are never HTTP."""
import time

from berthkit import free_port, keepalive_loop
from hostile_wire import connect, header_of, read_to_end, status_of


def _counting_origin(raw_origin):
    """An origin that answers 200 to every request; what it saw is in `.requests`."""
    return raw_origin(keepalive_loop(lambda conn, msg: conn.respond(200, b"origin")))


def _send_and_read_all(addr, data):
    """Sends `data` in one write and reads until berth closes (or 10 s pass): (bytes, how)."""
    s = connect(addr, timeout=15)
    try:
        s.sendall(data)
        return read_to_end(s, timeout=10)
    finally:
        s.close()


def _smuggled(o):
    return f"GET http://{o.hostport}/smuggled HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode()


def test_connect_to_a_refused_port_answers_502_then_closes_and_forwards_nothing(berth, raw_origin):
    o = _counting_origin(raw_origin)
    port = free_port()
    b = berth("--connect-port", str(port))
    raw, how = _send_and_read_all(b.proxy, f"CONNECT 127.0.0.1:{port} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
                                  + _smuggled(o))
    assert status_of(raw) == 502 and header_of(raw, "Berth-Error") == "connect-refused", raw[:300]
    assert header_of(raw, "Connection") == "close", raw[:300]
    assert raw.count(b"HTTP/1.1 ") == 1, f"more than one answer: {raw!r}"
    assert how == "fin", (how, raw[:300])
    time.sleep(0.3)
    assert o.requests == [], "the bytes after the failed CONNECT were forwarded as a request"


def test_connect_to_a_name_that_does_not_resolve_closes_too(berth, raw_origin):
    o = _counting_origin(raw_origin)
    b = berth()
    raw, how = _send_and_read_all(b.proxy, b"CONNECT no-such-host.invalid:443 HTTP/1.1\r\nHost: no-such-host.invalid:443\r\n\r\n"
                                  + _smuggled(o))
    assert status_of(raw) == 502 and header_of(raw, "Berth-Error") == "dns-failure", raw[:300]
    assert raw.count(b"HTTP/1.1 ") == 1 and how == "fin", (how, raw)
    time.sleep(0.3)
    assert o.requests == []


def test_a_denied_connect_closes(berth, raw_origin):
    o = _counting_origin(raw_origin)
    b = berth()  # default --connect-port 443 only
    raw, how = _send_and_read_all(b.proxy, f"CONNECT {o.hostport} HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode() + _smuggled(o))
    assert status_of(raw) == 403 and header_of(raw, "Berth-Error") == "destination-denied", raw[:300]
    assert raw.count(b"HTTP/1.1 ") == 1 and how == "fin", (how, raw)
    time.sleep(0.3)
    assert o.requests == [] and o.connections == 0


def test_an_upgrade_berth_answers_itself_closes(berth, raw_origin):
    """berth cannot know whether the caller already speaks the new protocol after an Upgrade it could not start."""
    o = _counting_origin(raw_origin)
    port = free_port()
    b = berth()
    up = (f"GET http://127.0.0.1:{port}/ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
          "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n").encode()
    raw, how = _send_and_read_all(b.proxy, up + _smuggled(o))
    assert status_of(raw) == 502 and header_of(raw, "Berth-Error") == "connect-refused", raw[:300]
    assert raw.count(b"HTTP/1.1 ") == 1 and how == "fin", (how, raw)
    time.sleep(0.3)
    assert o.requests == []


def test_an_upgrade_the_upstream_declines_is_an_ordinary_response(berth, raw_origin):
    """RFC 9110 7.8: a server may ignore Upgrade and answer normally; the request was read whole, so the
    connection is at a message boundary and continues (as HAProxy and nginx do)."""
    def respond(conn, msg):
        conn.respond(426 if msg.header("Upgrade") else 200, b"no" if msg.header("Upgrade") else b"next",
                     reason="Upgrade Required" if msg.header("Upgrade") else "OK")

    o = raw_origin(keepalive_loop(respond))
    b = berth()
    up = (f"GET http://{o.hostport}/ws HTTP/1.1\r\nHost: {o.hostport}\r\n"
          "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n").encode()
    s = connect(b.proxy, timeout=15)
    try:
        s.sendall(up + f"GET http://{o.hostport}/next HTTP/1.1\r\nHost: {o.hostport}\r\nConnection: close\r\n\r\n".encode())
        raw, how = read_to_end(s, timeout=10)
    finally:
        s.close()
    assert status_of(raw) == 426, raw[:300]
    assert raw.count(b"HTTP/1.1 ") == 2 and raw.endswith(b"next"), raw
    assert [m.target for _, m in o.requests] == ["/ws", "/next"]
