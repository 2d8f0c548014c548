"""words: an upstream response berth refuses (502 invalid-response) is named in words with the codec's stable name,
never a Swift case name (before: `berth: invalid-response: response head: invalidStatusLine`); and a 408 names its
timeout."""
import re

import pytest

from hostile_wire import connect, header_of, read_to_end, status_of

CAMEL = re.compile(rb"\b[a-z]+[A-Z][A-Za-z]*\b")


def _serve(response):
    def handler(conn):
        conn.read_request_head()
        conn.sendall(response)
    return handler


@pytest.mark.parametrize("response,detail", [
    (b"HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n", b"response head: malformed or too long status line (invalid-status-line)"),
    (b"HTTP/1.1 200 OK\r\nB@d: x\r\nContent-Length: 0\r\n\r\n", b"response head: malformed header field name"),
    (b"HTTP/1.1 200 " + b"K" * 9000 + b"\r\nContent-Length: 0\r\n\r\n",
     b"response head: malformed or too long status line (invalid-status-line)"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
     b"response head: Content-Length given more than once with different values (conflicting-content-length)"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
     b"chunked body: malformed chunk size: it must be 1 to 15 hexadecimal digits (invalid-chunk-size)"),
], ids=["status-line", "header-name", "status-line-long", "content-length", "chunk-size"])
def test_a_refused_response_is_named_in_words(berth, raw_origin, response, detail):
    o = raw_origin(_serve(response))
    b = berth()
    s = connect(b.proxy)
    try:
        s.sendall(f"GET http://{o.hostport}/ HTTP/1.1\r\nHost: {o.hostport}\r\nConnection: close\r\n\r\n".encode())
        raw, how = read_to_end(s, timeout=5)
    finally:
        s.close()
    assert status_of(raw) == 502 and header_of(raw, "Berth-Error") == "invalid-response", raw
    body = raw.partition(b"\r\n\r\n")[2]
    assert body.startswith(b"berth: invalid-response: ") and detail in body, body
    assert not CAMEL.search(raw), raw


def test_a_head_too_slow_says_which_timeout_and_how_long(berth):
    """408 named the limit it broke (before: "request head not received in time", with no timeout named)."""
    b = berth("--header-timeout", "300ms")
    s = connect(b.proxy)
    try:
        s.sendall(b"GET http://127.0.0.1:9/ HTTP/1.1\r\nHost: 127.0.0.1:9\r\n")
        raw, how = read_to_end(s, timeout=5)
    finally:
        s.close()
    assert status_of(raw) == 408 and header_of(raw, "Berth-Error") == "header-timeout", raw
    assert raw.endswith(b"berth: header-timeout: no whole request head within 0.3s of its first byte (header-timeout)\n"), raw
