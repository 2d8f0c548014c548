"""smug2: a hostile origin's malformed or over-long response never reaches another caller through the pool.

Caller A's request gets a response with ambiguous framing (Content-Length with Transfer-Encoding, two lengths, a 1xx
or 204/304/HEAD answer with a body, a bad chunk size, chunk data not ended by CRLF, bytes after the end, a 101 nobody
asked for) followed by a whole unsolicited response. Caller B, on a connection of its own, then asks the same origin:
it must get the origin's real answer on a fresh upstream connection, never the unsolicited one (response queue
poisoning). Survived by berth when written (HAProxy 2.6 and nginx 1.22 measured the same way, docs/reliability.md).
"""
import threading
import time

import pytest

from hostile_wire import connect, read_to_end, status_of

POISON = b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nPOISONED"
CHUNKED = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
FINAL = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

# (id, method of caller A, pieces the origin writes: bytes, or a float to sleep between writes)
CASES = [
    ("cl-with-te", "GET", [b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + POISON]),
    ("two-lengths", "GET", [b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 3\r\n\r\nhello" + POISON]),
    ("length-list", "GET", [b"HTTP/1.1 200 OK\r\nContent-Length: 3, 5\r\n\r\nhello" + POISON]),
    ("100-with-body", "GET", [b"HTTP/1.1 100 Continue\r\nContent-Length: 5\r\n\r\nhello" + FINAL + POISON]),
    ("103-chunked", "GET", [b"HTTP/1.1 103 Early Hints\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + FINAL + POISON]),
    ("204-with-body", "GET", [b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello" + POISON]),
    ("304-with-body", "GET", [b"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" + POISON]),
    ("head-with-body", "HEAD", [b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello" + POISON]),
    ("chunk-0x", "GET", [CHUNKED + b"0x5\r\nhello\r\n0\r\n\r\n" + POISON]),
    ("chunk-plus", "GET", [CHUNKED + b"+5\r\nhello\r\n0\r\n\r\n" + POISON]),
    ("chunk-u64-overflow", "GET", [CHUNKED + b"ffffffffffffffff1\r\nhello\r\n0\r\n\r\n" + POISON]),
    ("chunk-zeros-16", "GET", [CHUNKED + b"0000000000000005\r\nhello\r\n0\r\n\r\n" + POISON]),
    ("chunk-data-XX", "GET", [CHUNKED + b"5\r\nhelloXX0\r\n\r\n" + POISON]),
    ("chunk-data-LF", "GET", [CHUNKED + b"5\r\nhello\n0\r\n\r\n" + POISON]),
    ("chunk-data-CR", "GET", [CHUNKED + b"5\r\nhello\r0\r\n\r\n" + POISON]),
    ("chunk-data-late-XX", "GET", [CHUNKED + b"5\r\nhello", 0.1, b"XX0\r\n\r\n" + POISON]),
    ("status-bare-LF", "GET", [b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok" + POISON]),
    ("status-leading-CRLF", "GET", [b"\r\n" + FINAL + POISON]),
    ("status-4-digits", "GET", [b"HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\nok" + POISON]),
    ("101-unasked", "GET", [b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n" + POISON]),
    ("extra-after-end", "GET", [FINAL + POISON]),
    ("extra-50ms-later", "GET", [FINAL, 0.05, POISON]),
    ("continue-flood", "GET", [b"HTTP/1.1 100 Continue\r\n\r\n" * 2000 + FINAL + POISON]),
]


def hostile_first_connection(pieces):
    """The first upstream connection gets `pieces` as the answer to its first request, then is held open (a request
    berth sends on it later is recorded); every later connection answers `second` to each request."""
    lock = threading.Lock()
    seen = []  # (connection number, target)
    count = [0]

    def handler(conn):
        with lock:
            n = count[0]
            count[0] += 1
        while True:
            msg = conn.read_request_head()
            if msg is None:
                return
            with lock:
                seen.append((n, msg.target))
            if n == 0 and len(seen) == 1:
                for p in pieces:
                    if isinstance(p, float):
                        time.sleep(p)
                    else:
                        conn.sendall(p)
                continue
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond")

    return handler, seen


@pytest.mark.parametrize("method,pieces", [(m, p) for _, m, p in CASES], ids=[c[0] for c in CASES])
def test_a_hostile_answer_never_reaches_the_next_caller(berth, raw_origin, method, pieces):
    handler, seen = hostile_first_connection(pieces)
    b = berth()
    o = raw_origin(handler)
    a = connect(b.proxy)
    a.sendall(f"{method} http://{o.hostport}/first HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
    raw_a, _ = read_to_end(a, timeout=1.5)
    a.close()
    c = connect(b.proxy)
    c.sendall(f"GET http://{o.hostport}/second HTTP/1.1\r\nHost: {o.hostport}\r\nConnection: close\r\n\r\n".encode())
    raw_b, how = read_to_end(c, timeout=5)
    c.close()
    assert b"POISONED" not in raw_a + raw_b, (raw_a[-200:], raw_b)
    assert status_of(raw_b) == 200 and raw_b.endswith(b"second") and how == "fin", raw_b
    assert [n for n, target in seen if target.endswith("/second")] not in ([], [0]), seen
