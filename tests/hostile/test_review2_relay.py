"""Review probes of the relay's re-framing (issue 23 item 3): bodiless answers, codings and pipelining behind it."""
import socket
import time

import pytest

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


@pytest.mark.parametrize("caller", ["1.1", "1.0"])
def test_http10_upstream_naming_chunked_is_refused_not_passed_as_chunked(berth, raw_origin, caller):
    """An HTTP/1.0 response with Transfer-Encoding has faulty framing (RFC 9112 6.1), as berth already rules for
    requests. Forwarding its `Transfer-Encoding: chunked` on berth's HTTP/1.1 status line made the caller parse the
    upstream's close-delimited bytes as chunks (here: `hello`, with `SMUGGLED` left over), and gave an HTTP/1.0
    caller, which cannot decode chunked, the chunk framing as its body. It is refused: 502. (HAProxy 2.6 and nginx
    1.22 de-chunk such a response instead.)"""
    b = berth()
    body = b"5\r\nhello\r\n0\r\n\r\nSMUGGLED"
    o = raw_origin(send_then_close(b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body))
    c = connect(b.proxy)
    c.sendall(req(o.hostport).replace(b"HTTP/1.1", f"HTTP/{caller}".encode(), 1))
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


def test_100_continue_to_an_upstream_that_never_answers_times_out(berth, raw_origin):
    """The wait for 100 Continue is progress only while something moves: an upstream that reads the head and then
    says nothing still ends in the socket timeout (or berth's own 100 and then a timeout), never a hang."""
    def silent(conn):
        conn.read_request_head()
        time.sleep(12)
    b = berth("--socket-timeout", "1s")
    o = raw_origin(silent)
    c = connect(b.proxy)
    c.sendall(req(o.hostport, "POST", extra="Content-Length: 5\r\nExpect: 100-continue\r\n"))
    c.settimeout(8)
    got = b""
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline:
        try:
            chunk = c.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        got += chunk
        if b"100 Continue" in got and not got.endswith(b"\r\n\r\n") is False and got.count(b"HTTP/1.1") == 1 and b"100" in got.split(b"\r\n")[0]:
            c.sendall(b"hello")
        if got.count(b"HTTP/1.1") >= 2 or (got and b"100" not in got.split(b"\r\n")[0]):
            break
    c.close()
    final = got.split(b"\r\n\r\n", 1)[1] if got.startswith(b"HTTP/1.1 100") else got
    assert status_of(final) == 504, f"no timeout answer within 8 s at socket-timeout 1s: {got!r}"



def test_a_cut_while_the_caller_is_backed_up_still_shows(berth, raw_origin):
    """A Content-Length body cut while the caller reads nothing: what berth buffered goes out, then the reset; the
    caller never sees a clean FIN after a short body."""
    import struct
    total = 8 << 20
    def cut(conn):
        conn.read_request()
        conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {total}\r\n\r\n".encode())
        try:
            conn.sendall(b"x" * (total // 2))
        except OSError:
            return
        time.sleep(0.5)
        conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.sock.close()
    b = berth()
    o = raw_origin(cut)
    c = connect(b.proxy)
    c.sendall(req(o.hostport))
    time.sleep(3)
    raw, how = read_to_end(c, timeout=15)
    c.close()
    assert status_of(raw) == 200, raw[:200]
    body = raw.partition(b"\r\n\r\n")[2]
    assert len(body) < total, len(body)
    assert how == "reset", f"a cut Content-Length body ended with {how} after {len(body)} of {total} bytes"


def test_a_close_delimited_body_under_another_coding_is_cut_with_a_reset(berth, raw_origin):
    """`Transfer-Encoding: gzip` without chunked is close-delimited; berth does not chunk over it, so it closes the
    caller after it and a cut is a reset."""
    import struct

    def gz_then_rst(conn):
        conn.read_request()
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n" + b"\x1f\x8b" + b"z" * 1000)
        time.sleep(0.2)
        conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.sock.close()
    b = berth()
    o = raw_origin(gz_then_rst)
    c = connect(b.proxy)
    c.sendall(req(o.hostport))
    raw, how = read_to_end(c, timeout=5)
    c.close()
    assert status_of(raw) == 200, raw[:200]
    assert header_of(raw, "Transfer-Encoding") == "gzip", raw[:200]
    assert header_of(raw, "Connection") == "close", raw[:200]
    assert how == "reset", how
