"""A caller's chunked upload holds its last chunk until the whole trailer section is in (item 49), so the caller's
section bytes move nothing toward the origin while they arrive. They are still the exchange's progress: the socket
timeout is the longest silence in either direction, and a section dripped a byte at a time under it was cut as a
"stalled" body (504 after one socket timeout). A dripped section now restarts the timeout at each byte and gets a
bound in total, `header-timeout` from the turn that first found it partial (a trailer section is a header section
the caller sends, as its head is), past which the caller gets 408 and the origin a cut body (no last chunk). The
last chunk going out restarts the timeout too: the origin's time to answer is counted from the request's end."""
import time

from berthkit import stats
from hostile_wire import connect, read_to_end, status_of


def request_head(o):
    return (f"POST http://{o.hostport}/u HTTP/1.1\r\nHost: {o.hostport}\r\nTransfer-Encoding: chunked\r\n\r\n"
            "5\r\nhello\r\n").encode()


def recording_origin(raw_origin, seen, think=0.0):
    def handler(conn):
        conn.read_until(b"\r\n\r\n")
        got = conn.read_until(b"\r\n0")
        got += conn.read_until(b"\r\n\r\n")
        seen.append(got)
        time.sleep(think)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        time.sleep(1)
    return raw_origin(handler)


def test_a_request_trailer_dripped_under_the_socket_timeout_reaches_the_origin(berth, raw_origin):
    seen = []
    o = recording_origin(raw_origin, seen)
    b = berth("--socket-timeout", "1s")
    c = connect(b.proxy, timeout=10)
    section = b"0\r\nX-Slow: " + b"s" * 10 + b"\r\n\r\n"  # 27 bytes at 0.15 s: 4 s, four socket timeouts
    c.sendall(request_head(o))
    for byte in section:
        time.sleep(0.15)
        c.sendall(bytes([byte]))
    raw, _ = read_to_end(c, timeout=5)
    c.close()
    assert status_of(raw) == 200, raw[:300]
    assert seen == [b"5\r\nhello\r\n" + section], seen


def test_the_socket_timeout_restarts_when_the_last_chunk_goes(berth, raw_origin):
    """The last chunk leaves 1.4 s after the body's first chunk, the origin answers 1.2 s after it: within the
    2 s socket timeout of the request's end, though not of the first chunk."""
    seen = []
    o = recording_origin(raw_origin, seen, think=1.2)
    b = berth("--socket-timeout", "2s")
    c = connect(b.proxy, timeout=10)
    c.sendall(request_head(o))
    time.sleep(1.4)
    c.sendall(b"0\r\nX-T: 1\r\n\r\n")
    raw, _ = read_to_end(c, timeout=6)
    c.close()
    assert status_of(raw) == 200, raw[:300]
    assert seen == [b"5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n"], seen


def test_a_request_trailer_dripped_past_the_header_timeout_is_cut(berth, raw_origin):
    seen = []

    def handler(conn):
        conn.read_until(b"\r\n\r\n")
        seen.append(conn.read_until_cut()[0])

    o = raw_origin(handler)
    b = berth("--socket-timeout", "1s", "--header-timeout", "2s")
    c = connect(b.proxy, timeout=10)
    c.sendall(request_head(o))
    t0 = time.monotonic()
    try:
        for byte in b"0\r\nX-Slow: " + b"s" * 60:  # 9 s at 0.15 s a byte
            time.sleep(0.15)
            c.sendall(bytes([byte]))
            if time.monotonic() - t0 > 6:
                break
    except OSError:
        pass  # berth answered and closed
    raw, _ = read_to_end(c, timeout=5)
    took = time.monotonic() - t0
    c.close()
    assert status_of(raw) == 408, raw[:300]
    assert b"header-timeout" in raw, raw[:300]
    deadline = time.monotonic() + 3
    while not seen and time.monotonic() < deadline:
        time.sleep(0.05)
    assert seen and b"\r\n0\r\n" not in seen[0], seen  # the origin never saw a last chunk
    assert stats(b)["totals"]["errors"].get("header-timeout") == 1, stats(b)["totals"]["errors"]
    assert took < 5, f"answered after {took:.1f}s"  # header-timeout 2 s from the first held byte
