"""A kept caller idling after a large head held that head's buffers: the request head's (its lines, a line that came
in pieces) and the response head's, ~60-120 KiB a caller after 60 KiB heads, outside `head-memory` (which counts
unfinished heads only): 10,000 such idle callers held 0.6-1.2 GB. Buffers larger than a few KiB now go back when the
exchange ends; a caller's next large head pays their allocation again, a caller of ordinary heads nothing."""
import pytest

from hostile_wire import connect, read_response, rss_kib

CALLERS = 400
PAD_LINE = b"X-Pad: " + b"a" * 1015 + b"\r\n"  # 1 KiB


def request(o, shape):
    start = f"GET http://{o.hostport}/h HTTP/1.1\r\nHost: {o.hostport}\r\n".encode()
    if shape == "lines":
        return start + PAD_LINE * 60 + b"\r\n"
    if shape == "one-line":
        return start + b"X-Big: " + b"a" * 60000 + b"\r\n\r\n"
    return start + b"\r\n"


def answer_of(shape):
    lines = (b"X-R: " + b"r" * 1017 + b"\r\n") * 59 if shape == "response" else b""
    return b"HTTP/1.1 200 OK\r\n" + lines + b"Content-Length: 2\r\nConnection: close\r\n\r\nok"


@pytest.mark.parametrize("shape", ["lines", "one-line", "response"])
def test_idle_callers_after_large_heads_do_not_keep_their_buffers(berth, raw_origin, shape):
    def h(conn):
        conn.read_request()
        conn.sendall(answer_of(shape))

    b = berth("--workers", "1", "--caller-idle-timeout", "60s")
    o = raw_origin(h)
    raw = request(o, shape)
    callers = []
    try:
        # One warm-up caller, so that what the first exchange sets up once is not counted.
        warm = connect(b.proxy)
        warm.sendall(raw)
        read_response(warm)
        base = rss_kib(b.pid)
        for _ in range(CALLERS):
            c = connect(b.proxy)
            c.sendall(raw)
            head, body = read_response(c)
            assert head.startswith(b"HTTP/1.1 200") and body == b"ok", head[:200]
            callers.append(c)  # kept by berth (the origin's close is not the caller's), idle
        grown = rss_kib(b.pid) - base
        # A caller idle after ordinary heads costs berth ~5 KiB; one that kept 60 KiB of head buffers costs 65+.
        assert grown < CALLERS * 20, f"{grown} KiB for {CALLERS} idle callers ({grown / CALLERS:.1f} KiB each)"
    finally:
        for c in callers:
            c.close()
