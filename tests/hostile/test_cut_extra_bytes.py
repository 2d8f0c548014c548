"""A response that ends before the bytes its upstream sent do (more than its Content-Length, bytes after the last
chunk, a body on a HEAD, 204 or 304 answer): the caller gets the response its framing says, and the extra bytes never
answer a later request, neither one pipelined behind it nor another caller's on the pooled connection. Over TCP, TLS
(the extra in the same record, in a record of its own in the same segment, or later) and a Unix socket."""
import time

import pytest

from berthkit.cut_caller import Wire, read_response
from berthkit.cut_origin import CHUNKED, LENGTH
from cut_rig import Rig
from hostile_wire import connect

EVIL = b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nX-Case: evil\r\n\r\nEVIL"
SHORT_CHUNKED = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Case: short\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
# name -> (method, the response, its payload as the caller must see it, the bytes after it)
EXTRAS = {
    "length-then-response": ("GET", LENGTH.wire, LENGTH.payload, EVIL),
    "length-then-crlf": ("GET", LENGTH.wire, LENGTH.payload, b"\r\n"),
    "length-then-bytes": ("GET", LENGTH.wire, LENGTH.payload, b"0123456789"),
    "chunked-trailer-then-response": ("GET", CHUNKED.wire, CHUNKED.payload, EVIL),
    "chunked-then-response": ("GET", SHORT_CHUNKED, b"hello", EVIL),
    "chunked-then-chunk": ("GET", SHORT_CHUNKED, b"hello", b"4\r\nEVIL\r\n0\r\n\r\n"),
    "head-with-body": ("HEAD", LENGTH.head, b"", LENGTH.body + EVIL),
    "204-with-body": ("GET", b"HTTP/1.1 204 No Content\r\nX-Case: 204\r\n\r\n", b"", EVIL),
    "304-with-body": ("GET", b"HTTP/1.1 304 Not Modified\r\nX-Case: 304\r\n\r\n", b"", EVIL),
}
# How the extra bytes follow the response: in the same write (over TLS the same record), in a write (record) of its
# own in the same TCP segment, or 50 ms later, once berth has pooled the connection.
TIMINGS = {"tcp": ("together", "later"), "tls": ("together", "corked", "later"), "unix": ("together", "later")}


def pieces(response, extra, timing):
    if timing == "together":
        return response + extra
    if timing == "corked":
        return ["cork", response, extra, "uncork"]
    return [response, 0.05, extra]


def cases():
    for transport, timings in TIMINGS.items():
        for timing in timings:
            for name in EXTRAS:
                for caller in ("next-caller", "pipelined"):
                    # A request pipelined behind goes out as soon as the response ends: bytes that come later cross
                    # it, as an unsolicited response crosses any request on a reused connection (for any proxy).
                    if caller == "pipelined" and timing == "later":
                        continue
                    yield pytest.param(transport, timing, name, caller, id=f"{transport}-{timing}-{name}-{caller}")


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    r = Rig(tmp_path_factory.mktemp("extra"))
    yield r
    r.close()


def get(method, host, case):
    return f"{method} http://{host}/cut/{case} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()


def assert_ok(w, note):
    nxt = read_response(w, "GET")
    assert (nxt.status, nxt.fields.get("x-case"), nxt.payload, nxt.complete) == (200, "ok", b"ok", True), (nxt, *note)


@pytest.mark.parametrize("transport,timing,name,caller", list(cases()))
def test_bytes_after_a_response_never_answer_another_request(rig, transport, timing, name, caller):
    method, response, payload, extra = EXTRAS[name]
    host = rig.hosts[transport]
    case = rig.new_id()
    # The origin stays on the connection after the extra bytes: a request berth sent on it would be answered by them.
    rig.cases[case] = (pieces(response, extra, timing), "silence", True)
    before = rig.truncated()
    sock = connect(rig.berth.proxy)
    try:
        ok = f"GET http://{host}/ok HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
        sock.sendall(get(method, host, case) + (ok if caller == "pipelined" else b""))
        w = Wire(sock, timeout=3)
        first = read_response(w, method)
        note = (name, first, w.end, w.buf[:200])
        status = int(response.split(b" ")[1])
        assert (first.status, first.payload, first.complete) == (status, payload, True), note
        if caller == "pipelined":
            assert_ok(w, note)
        else:
            # Long enough for the late bytes to arrive on the pooled connection, which berth must then drop.
            time.sleep(0.15 if timing == "later" else 0.02)
            for _ in range(2):
                other = connect(rig.berth.proxy)
                try:
                    other.sendall(ok)
                    assert_ok(Wire(other, timeout=3), note)
                finally:
                    other.close()
    finally:
        sock.close()
    assert rig.truncated() == before


@pytest.mark.parametrize("framing", ["length", "chunked"])
@pytest.mark.parametrize("transport", ["tcp", "tls", "unix"])
def test_bytes_after_a_large_response_to_a_slow_reader_never_answer_the_request_behind_it(rig, transport, framing):
    """The caller pipelines a request behind a 2 MiB answer and reads nothing for a while: berth stops reading the
    upstream (high water) with the answer's end and the extra bytes still in the kernel, and must not hand the
    connection to the pipelined request once the caller catches up."""
    body = b"x" * (2 << 20)
    if framing == "length":
        response = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nX-Case: big\r\n\r\n" % len(body) + body
    else:
        response = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Case: big\r\n\r\n%x\r\n" % len(body) + body
        response += b"\r\n0\r\n\r\n"
    host = rig.hosts[transport]
    case = rig.new_id()
    rig.cases[case] = (response + EVIL, "silence", True)
    sock = connect(rig.berth.proxy)
    try:
        ok = f"GET http://{host}/ok HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
        sock.sendall(get("GET", host, case) + ok)
        time.sleep(0.3)
        w = Wire(sock, timeout=5)
        first = read_response(w, "GET")
        assert (first.status, len(first.payload), first.complete) == (200, len(body), True), (first.fields, w.end)
        assert_ok(w, ("the request pipelined behind the large answer",))
    finally:
        sock.close()
