"""review11: what a drain does with a CONNECT or an upload pipelined behind an answer that went out keep-alive.

Item 67 serves one request already buffered behind such an answer, its answer saying close. A CONNECT there
becomes a tunnel, which the drain does not wait for past `drain-timeout` (the wake timer closes what is left); an
upload is served with `Connection: close`. Either way the drain ends within `drain-timeout` and berth exits 0,
and nothing after the pipelined request is read as a request. (Probes berth survived; they pass before and after.)"""
import signal
import socket
import time

from hostile_wire import connect, read_to_end


def _origin(conn):
    """An HTTP origin: each answer's head and half its body at once, the rest 0.3 s later, keep-alive (a tunnel
    to it carries HTTP too)."""
    while not conn.origin.stopped.is_set():
        msg = conn.read_request()
        if msg is None:
            return
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nok")
        time.sleep(0.3)
        conn.sendall(b"ok")


def _drain_with(berth, o, pipelined, *flags):
    b = berth("--drain-timeout", "2s", *flags)
    s = connect(b.proxy, timeout=10)
    try:
        s.sendall(f"GET http://{o.hostport}/a HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode() + pipelined)
        time.sleep(0.1)
        b.proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        data, how = read_to_end(s, timeout=15)
        assert b.proc.wait(timeout=15) == 0, b.stderr_text()
        return data, how, time.monotonic() - started
    finally:
        s.close()


def test_a_pipelined_connect_at_a_drain_is_cut_at_the_drain_timeout(berth, raw_origin):
    o = raw_origin(_origin)
    tunnel = f"CONNECT {o.hostport} HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode()
    data, how, took = _drain_with(berth, o, tunnel + b"GET /never HTTP/1.1\r\n\r\n", "--connect-port", str(o.port))
    assert data.startswith(b"HTTP/1.1 200"), data[:200]
    # The GET's answer, then the CONNECT's; the GET behind it went through the tunnel, answered by the origin
    # itself (no Via of berth's), not parsed by berth.
    assert b"200 Connection Established" in data, data
    assert b"Via: 1.1 berth" not in data.split(b"Connection Established", 1)[1], data
    assert how in ("fin", "reset"), how
    assert took < 12, took


def test_a_pipelined_upload_at_a_drain_is_answered_with_close(berth, raw_origin):
    o = raw_origin(_origin)
    body = b"x" * 200_000
    upload = (f"POST http://{o.hostport}/up HTTP/1.1\r\nHost: {o.hostport}\r\nContent-Length: {len(body)}\r\n\r\n"
              .encode() + body + f"GET http://{o.hostport}/never HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
    data, how, took = _drain_with(berth, o, upload)
    assert how == "fin", (how, data[-200:])
    assert data.count(b"HTTP/1.1 200") == 2, data[-400:]
    assert b"Connection: close" in data.split(b"okok", 1)[1], data[-400:]
