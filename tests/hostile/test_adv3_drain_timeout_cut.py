"""adv3: a response the drain timeout cuts shows the cut, as any other cut response does (api.md, truncation).

At `drain-timeout` berth closes what is still under way. A response whose framing cannot show a cut (read until the
close, or de-chunked, for an HTTP/1.0 caller; a Content-Length body) was ended there with a clean FIN, so an HTTP/1.0
client took the bytes it had for the whole body. The same holds for a response berth had whole but had not yet handed
to a caller that reads slowly: the drain waits for it, then dropped the rest with a FIN. Such cuts now end with a
reset, as an upstream's reset mid-body does (`cutResponse`); a chunked body (the caller's own framing or berth's
re-chunking of a close-delimited one) still ends with a FIN, its missing last chunk showing the cut.
"""
import signal
import socket
import time

import pytest

from hostile_wire import connect, read_to_end

DRIP = {
    "until-close": (b"HTTP/1.1 200 OK\r\n\r\n", lambda: b"x" * 100),
    "chunked": (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", lambda: b"64\r\n" + b"x" * 100 + b"\r\n"),
    "content-length": (b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n", lambda: b"x" * 100),
}


def _dripping(kind):
    head, piece = DRIP[kind]

    def handler(conn):
        if conn.read_request_head() is None:
            return
        conn.sendall(head)
        try:
            for _ in range(100):
                conn.sendall(piece())
                time.sleep(0.1)
        except OSError:
            pass
    return handler


@pytest.mark.parametrize("kind,version,ends", [
    ("until-close", "HTTP/1.0", "reset"),
    ("chunked", "HTTP/1.0", "reset"),
    ("content-length", "HTTP/1.0", "reset"),
    ("content-length", "HTTP/1.1", "reset"),
    ("until-close", "HTTP/1.1", "fin"),
    ("chunked", "HTTP/1.1", "fin"),
])
def test_a_response_cut_by_the_drain_timeout_shows_the_cut(berth, raw_origin, kind, version, ends):
    o = raw_origin(_dripping(kind))
    b = berth("--drain-timeout", "1s")
    s = connect(b.proxy, timeout=10)
    try:
        s.sendall(f"GET http://{o.hostport}/ {version}\r\nHost: {o.hostport}\r\n\r\n".encode())
        time.sleep(0.3)  # the head and some of the body are out
        b.proc.send_signal(signal.SIGTERM)
        data, how = read_to_end(s, timeout=10)
    finally:
        s.close()
    assert data.startswith(b"HTTP/1.1 200 "), data[:200]
    assert how == ends, (kind, version, how, data[-60:])
    if ends == "fin":
        # The caller's framing shows the cut: chunks, and no last chunk.
        assert not data.endswith(b"0\r\n\r\n"), data[-60:]
    assert b.proc.wait(10) == 0


def test_a_whole_response_still_held_for_a_slow_reader_at_the_drain_timeout_is_reset(berth, raw_origin):
    """The origin sends 8 MiB until its close, whole; the HTTP/1.0 caller reads nothing until the drain has timed out:
    what berth still held is lost, and the caller must see a reset, not a FIN after a shorter body."""
    body = b"y" * (8 << 20)

    def handler(conn):
        if conn.read_request_head() is None:
            return
        conn.sendall(b"HTTP/1.1 200 OK\r\n\r\n" + body)
        conn.sock.close()

    o = raw_origin(handler)
    b = berth("--drain-timeout", "1s")
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 10)
    s.settimeout(10)
    s.connect(b.proxy)
    try:
        s.sendall(f"GET http://{o.hostport}/ HTTP/1.0\r\nHost: {o.hostport}\r\n\r\n".encode())
        time.sleep(0.5)  # all of it read from the origin; most of it held by berth
        b.proc.send_signal(signal.SIGTERM)
        assert b.proc.wait(10) == 0
        data, how = read_to_end(s, timeout=10)
    finally:
        s.close()
    head, _, got = data.partition(b"\r\n\r\n")
    assert len(got) < len(body), len(got)
    assert how == "reset", (how, len(got))
