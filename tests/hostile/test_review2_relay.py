"""Review probes of the relay's re-framing (issue 23 item 3): bodiless answers, codings and pipelining behind it."""
import socket
import time

from hostile_wire import connect, header_of, read_to_end, status_of


def req(hostport, method="GET", path="/", extra=""):
    return f"{method} http://{hostport}{path} HTTP/1.1\r\nHost: {hostport}\r\n{extra}\r\n".encode()


def send_then_close(raw):
    def handler(conn):
        conn.read_request()
        conn.sendall(raw)
        time.sleep(0.1)
        conn.sock.close()
    return handler


def test_head_to_close_delimited_upstream_gets_no_chunked_framing(berth, raw_origin):
    b = berth()
    o = raw_origin(send_then_close(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n"))
    c = connect(b.proxy)
    c.sendall(req(o.hostport, "HEAD"))
    c.settimeout(5)
    raw = c.recv(65536)
    assert status_of(raw) == 200, raw
    assert header_of(raw, "Transfer-Encoding") is None, raw
    # The connection stays in sync: a second request gets its own answer.
    c.sendall(req(o.hostport, "HEAD"))
    raw2, how = read_to_end(c, timeout=3)
    c.close()
    assert status_of(raw2) == 200, raw2


def test_204_and_304_from_close_delimited_upstream_get_no_body(berth, raw_origin):
    b = berth()
    for status in (204, 304):
        o = raw_origin(send_then_close(f"HTTP/1.1 {status} X\r\nETag: \"a\"\r\n\r\n".encode()))
        c = connect(b.proxy)
        c.sendall(req(o.hostport))
        c.settimeout(5)
        raw = c.recv(65536)
        c.close()
        assert status_of(raw) == status, raw
        assert header_of(raw, "Transfer-Encoding") is None, raw
        assert raw.endswith(b"\r\n\r\n"), raw


def test_http10_upstream_naming_chunked_is_refused_not_passed_as_chunked(berth, raw_origin):
    """An HTTP/1.0 response with Transfer-Encoding has faulty framing (RFC 9112 6.1), as berth already rules for
    requests. Forwarding its `Transfer-Encoding: chunked` on berth's HTTP/1.1 status line made the caller parse the
    upstream's close-delimited bytes as chunks (here: `hello`, with `SMUGGLED` left over). It is refused: 502."""
    b = berth()
    body = b"5\r\nhello\r\n0\r\n\r\nSMUGGLED"
    o = raw_origin(send_then_close(b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body))
    c = connect(b.proxy)
    c.sendall(req(o.hostport))
    raw, how = read_to_end(c, timeout=5)
    c.close()
    assert status_of(raw) == 502, f"an HTTP/1.0 response's Transfer-Encoding reached the caller as framing: {raw!r}"
    assert header_of(raw, "Berth-Error") == "invalid-response", raw


def test_pipelined_request_behind_a_rechunked_response_stays_in_sync(berth, raw_origin):
    b = berth()
    o = raw_origin(send_then_close(b"HTTP/1.1 200 OK\r\n\r\nfirst-body"))
    o2 = raw_origin(lambda conn: (conn.read_request(), conn.respond(200, b"second")))
    c = connect(b.proxy)
    c.sendall(req(o.hostport, path="/a") + req(o2.hostport, path="/b"))
    raw, how = read_to_end(c, timeout=4)
    c.close()
    assert raw.count(b"HTTP/1.1 200") == 2, raw
    assert b"a\r\nfirst-body\r\n0\r\n\r\nHTTP/1.1 200" in raw, raw
    assert raw.endswith(b"second"), raw


def test_http11_caller_with_connection_close_gets_chunked_and_fin(berth, raw_origin):
    b = berth()
    o = raw_origin(send_then_close(b"HTTP/1.1 200 OK\r\n\r\nbody"))
    c = connect(b.proxy)
    c.sendall(req(o.hostport, extra="Connection: close\r\n"))
    raw, how = read_to_end(c, timeout=4)
    c.close()
    assert how == "fin", how
    assert raw.endswith(b"4\r\nbody\r\n0\r\n\r\n"), raw
    assert header_of(raw, "Connection") == "close", raw
