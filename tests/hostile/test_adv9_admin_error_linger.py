"""An admin error answer that ends the connection while its client is still sending (a body over 1 MiB, a head over
the limits) must reach that client: berth sends its FIN and reads the rest away before it closes, as the proxy
lingers, instead of closing over unread bytes, whose reset destroyed the answer for a client that writes its whole
request before it reads (Python's http.client, most HTTP libraries)."""
import socket

import pytest

from hostile_wire import connect, read_to_end, status_of

BIG = 8 << 20


def _send_all_then_read(addr, raw):
    """Writes all of `raw`, then reads to the end: (what a send raised or None, bytes read, how it ended)."""
    s = connect(addr, timeout=20)
    try:
        failed = None
        try:
            s.sendall(raw)
        except OSError as e:
            failed = e
        data, how = read_to_end(s, timeout=20)
        return failed, data, how
    finally:
        s.close()


@pytest.mark.parametrize("case", ["body over 1 MiB", "request line over the limit", "header section over the limit"])
def test_an_admin_error_answer_survives_the_rest_of_the_request(berth, case):
    b = berth()
    if case == "body over 1 MiB":
        raw = (f"POST /pause?upstream=127.0.0.1:9 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {BIG}\r\n\r\n".encode()
               + b"x" * BIG)
        status = 413
    elif case == "request line over the limit":
        raw = b"GET /stats?" + b"a" * BIG + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        status = 414
    else:
        raw = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"b" * BIG + b"\r\n\r\n"
        status = 431
    failed, data, how = _send_all_then_read(b.admin, raw)
    # Before: berth closed over the unread rest, its reset broke the client's write (EPIPE or ECONNRESET) and a
    # client that only reads after writing never saw the answer.
    assert failed is None, (failed, data[:200], how)
    assert status_of(data) == status, data[:300]
    assert how == "fin", how
    # The admin serves on.
    failed, data, how = _send_all_then_read(b.admin, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    assert failed is None and status_of(data) == 200, data[:200]
