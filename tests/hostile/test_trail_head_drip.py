"""A response head dripped by the origin, one byte at a time under the socket timeout, had no bound in total: the
caller waited for as long as the origin cared to drip. `response-head-timeout` (default 10s, from a head's first
byte, as `header-timeout` bounds a caller's request head) now ends it with 504 `read-timeout`, counted; each head of
a response (an interim one, then the final one) has its own, and neither cuts a slow body or an origin's think time."""
import time

from berthkit import stats
from berthkit.trailer_wire import drip, read_until_suffix
from hostile_wire import connect, header_of, status_of

HEAD = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Pad: " + b"a" * 40 + b"\r\n\r\nok"


def dripping(data, gap):
    """An origin that drips `data` a byte a write, `gap` seconds apart, then holds its connection 2 s."""
    def handler(conn):
        conn.read_request()
        try:
            drip(conn, data, pause=gap)
        except OSError:
            pass
        time.sleep(2)
    return handler


def get(b, o, timeout=8):
    c = connect(b.proxy, timeout=timeout)
    c.sendall(f"GET http://{o.hostport}/d HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
    t0 = time.monotonic()
    raw = b""
    while b"\r\n\r\n" not in raw:
        chunk = c.recv(65536)
        if not chunk:
            break
        raw += chunk
    took = time.monotonic() - t0
    c.close()
    return raw, took


def test_a_dripped_response_head_gets_504_at_the_head_timeout(berth, raw_origin):
    b = berth("--socket-timeout", "1s", "--response-head-timeout", "1500ms")
    o = raw_origin(dripping(HEAD, 0.2))  # 70 bytes, 14 s in all, no gap near the socket timeout
    raw, took = get(b, o)
    assert status_of(raw) == 504, raw[:300]
    assert header_of(raw, "Berth-Error") == "read-timeout", raw[:300]
    assert b"response-head-timeout" in raw, raw
    assert took < 5, f"answered after {took:.1f}s"
    assert stats(b)["totals"]["errors"].get("read-timeout") == 1, stats(b)["totals"]["errors"]


def test_think_time_before_the_head_and_a_slow_body_are_not_cut(berth, raw_origin):
    """The deadline runs from a head's first byte: an origin silent for most of the socket timeout before it answers,
    then a body dripped past the head timeout, is a whole response."""
    def handler(conn):
        conn.read_request()
        time.sleep(0.8)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n")
        drip(conn, b"abcdefgh", pause=0.3)
        time.sleep(1)

    b = berth("--socket-timeout", "1s", "--response-head-timeout", "500ms")
    o = raw_origin(handler)
    c = connect(b.proxy)
    c.sendall(f"GET http://{o.hostport}/d HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
    raw = read_until_suffix(c, b"abcdefgh")
    c.close()
    assert status_of(raw) == 200
    assert stats(b)["totals"]["errors"].get("read-timeout") == 0


def test_each_head_has_its_own_deadline(berth, raw_origin):
    """A 100 Continue, then an upload longer than the head timeout, then the final head: each head came whole within
    its own bound, so nothing is cut."""
    def handler(conn):
        head = conn.read_request_head()
        conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        conn.read_exact(int(head.header("Content-Length")))
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        time.sleep(1)

    b = berth("--socket-timeout", "1s", "--response-head-timeout", "500ms")
    o = raw_origin(handler)
    c = connect(b.proxy)
    c.sendall(f"POST http://{o.hostport}/u HTTP/1.1\r\nHost: {o.hostport}\r\nContent-Length: 6\r\n"
              f"Expect: 100-continue\r\n\r\n".encode())
    got = b""
    while b"\r\n\r\n" not in got:
        got += c.recv(65536)
    assert got.startswith(b"HTTP/1.1 100"), got
    drip(c, b"upload", pause=0.3)
    raw = read_until_suffix(c, b"ok", got.partition(b"\r\n\r\n")[2])
    c.close()
    assert status_of(raw) == 200, raw
