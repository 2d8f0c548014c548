"""Fields no trailer may carry (RFC 9110 6.5.1: framing, routing, connection control, authentication, content format)
reached the caller as the origin sent them, so a downstream that merges trailers into the header section could take
the origin's `Content-Length` or `Connection` for the message's own. They are now left out; other fields go through
byte for byte (HAProxy 2.6 passes them on lower-cased, nginx 1.22 drops every upstream trailer field)."""
import time

import pytest

from hostile_wire import connect, status_of

HEAD = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"
FORBIDDEN = [b"Content-Length: 5", b"transfer-encoding: chunked", b"Host: evil.example", b"Connection: close",
             b"Keep-Alive: timeout=1", b"TE: trailers", b"Trailer: X-A", b"Upgrade: h2c", b"Proxy-Connection: close",
             b"Proxy-Authenticate: Basic", b"Proxy-Authorization: Basic eA==", b"Content-Type: text/evil",
             b"Content-Encoding: gzip", b"Content-Range: bytes 0-1/2", b"Authorization: Basic eA==",
             b"WWW-Authenticate: Basic", b"Set-Cookie: a=b", b"Cookie: a=b", b"Cache-Control: no-store",
             b"Expect: 100-continue", b"Range: bytes=0-1", b"Max-Forwards: 1", b"Pragma: no-cache", b"Realm: x"]
KEPT = [b"X-Checksum: abc", b"Server-Timing: db;dur=53", b"Digest: sha-256=X48E9q"]


def _relay(berth, raw_origin, trailer):
    def handler(conn):
        conn.read_request()
        conn.sendall(HEAD + b"0\r\n" + trailer + b"\r\n")
        time.sleep(1)

    o = raw_origin(handler)
    b = berth()
    c = connect(b.proxy)
    c.sendall(f"GET http://{o.hostport}/t HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
    data = b""
    while data.count(b"\r\n\r\n") < 2:
        chunk = c.recv(65536)
        assert chunk, data
        data += chunk
    c.close()
    assert status_of(data) == 200, data
    return data.partition(b"\r\n\r\n")[2]


def test_forbidden_trailer_fields_are_left_out_and_the_rest_kept_in_order(berth, raw_origin):
    lines = [KEPT[0]] + FORBIDDEN[:12] + [KEPT[1]] + FORBIDDEN[12:] + [KEPT[2]]
    body = _relay(berth, raw_origin, b"".join(line + b"\r\n" for line in lines))
    assert body == b"5\r\nhello\r\n0\r\n" + b"".join(k + b"\r\n" for k in KEPT) + b"\r\n", body


@pytest.mark.parametrize("line", [b"CONTENT-LENGTH: 0", b"Content-Length:5", b"connection:   keep-alive"])
def test_a_forbidden_field_in_any_spelling_is_left_out(berth, raw_origin, line):
    body = _relay(berth, raw_origin, line + b"\r\nX-Ok: 1\r\n")
    assert body == b"5\r\nhello\r\n0\r\nX-Ok: 1\r\n\r\n", body
