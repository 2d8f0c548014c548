"""hostile1 item 1: a `Berth-Error` in an upstream's chunked TRAILER reached the caller as it came, so a caller could
take the upstream's cause for this berth's own (a head's is renamed `Berth-Upstream-Error`: test_relay_berth_error).
Trailers now get the head's treatment: `Berth-Error` renamed, `Berth-Generation` and `Berth-Socket-Timeout`
(request-only fields berth strips from heads) left out, every other trailer field byte for byte."""
import time

import pytest

from hostile_wire import connect, status_of

TRAILER = (b"X-Before: 1\r\nberth-error: upstream-reset\r\nBerth-Generation: g7\r\nX-After: 2\r\n"
           b"BERTH-ERROR: pool-timeout\r\nBerth-Socket-Timeout: 9s\r\n\r\n")
EXPECTED = (b"X-Before: 1\r\nBerth-Upstream-Error: upstream-reset\r\nX-After: 2\r\n"
            b"Berth-Upstream-Error: pool-timeout\r\n\r\n")


def _exchange(berth, raw_origin, pieces, version="1.1"):
    def handler(conn):
        conn.read_request()
        for p in pieces:
            conn.sendall(p)
            time.sleep(0.05)

    o = raw_origin(handler)
    b = berth()
    c = connect(b.proxy)
    c.sendall(f"GET http://{o.hostport}/t HTTP/{version}\r\nHost: {o.hostport}\r\n\r\n".encode())
    data = b""
    c.settimeout(5)
    while not data.endswith(b"\r\n\r\n") or data.count(b"\r\n\r\n") < 2:
        chunk = c.recv(65536)
        if not chunk:
            break
        data += chunk
    c.close()
    return data


@pytest.mark.parametrize("split", ["one-write", "trailer-in-pieces", "name-split"])
def test_a_berth_error_in_a_trailer_is_renamed(berth, raw_origin, split):
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    body = b"5\r\nhello\r\n0\r\n"
    if split == "one-write":
        pieces = [head + body + TRAILER]
    elif split == "trailer-in-pieces":
        pieces = [head + body, TRAILER[:20], TRAILER[20:50], TRAILER[50:]]
    else:
        cut = TRAILER.index(b"berth-error") + 5
        pieces = [head + body + TRAILER[:cut], TRAILER[cut:]]
    data = _exchange(berth, raw_origin, pieces)
    assert status_of(data) == 200, data
    _, _, rest = data.partition(b"\r\n\r\n")
    assert rest == b"5\r\nhello\r\n0\r\n" + EXPECTED, rest


def test_a_response_without_trailer_fields_is_untouched(berth, raw_origin):
    data = _exchange(berth, raw_origin, [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"])
    assert data.partition(b"\r\n\r\n")[2] == b"5\r\nhello\r\n0\r\n\r\n"


def test_a_trailer_past_its_limit_is_still_refused(berth, raw_origin):
    """The held trailer is bounded as before (16 KiB): past it the response is cut, never buffered on."""
    big = b"X-Pad: " + b"a" * 20000 + b"\r\n\r\n"
    def handler(conn):
        conn.read_request()
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n")
        time.sleep(0.05)
        conn.sendall(big)
        time.sleep(1)

    o = raw_origin(handler)
    b = berth()
    c = connect(b.proxy)
    c.sendall(f"GET http://{o.hostport}/t HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
    data, how = b"", "?"
    c.settimeout(5)
    try:
        while True:
            chunk = c.recv(65536)
            if not chunk:
                how = "fin"
                break
            data += chunk
    except ConnectionResetError:
        how = "reset"
    c.close()
    assert how in ("reset", "fin") and not data.endswith(b"\r\n\r\n"), (how, data[-100:])
    assert len(data) < 20000
