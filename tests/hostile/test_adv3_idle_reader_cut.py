"""adv3: a caller that stops reading past `caller-idle-timeout` mid-answer sees the cut when it reads again.

berth drops a caller that takes nothing of its answer for the caller idle timeout (a stopped client, a frozen
container). It closed that connection with a clean FIN, whatever the answer's framing: the kernel still delivered what
it held, then the FIN, so a caller that woke up later read a close-delimited or de-chunked body cut short, ended as
an HTTP/1.0 body ends, and took it for whole (and a Content-Length body ended by a FIN, where its other cuts are a
reset). Now such a close is a cut, made visible as the others are (`cutResponse`): a reset unless the caller's own
framing shows it; an answer whose end berth had already relayed is reset too.
"""
import socket
import time

import pytest

from hostile_wire import read_to_end

BODY = 8 << 20


def _big(framing, closes):
    def handler(conn):
        if conn.read_request_head() is None:
            return
        if framing == "content-length":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % BODY + b"y" * BODY)
        elif framing == "chunked":
            conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                         + b"%x\r\n" % BODY + b"y" * BODY + b"\r\n0\r\n\r\n")
        else:
            conn.sendall(b"HTTP/1.1 200 OK\r\n\r\n" + b"y" * BODY)
        if closes:
            conn.sock.close()
        else:
            time.sleep(8)
    return handler


@pytest.mark.parametrize("framing,version,closes", [
    ("until-close", "HTTP/1.0", True),
    ("until-close", "HTTP/1.0", False),
    ("chunked", "HTTP/1.0", True),
    ("content-length", "HTTP/1.1", True),
    ("content-length", "HTTP/1.0", False),
])
def test_a_caller_dropped_for_not_reading_its_answer_sees_a_cut(berth, raw_origin, framing, version, closes):
    o = raw_origin(_big(framing, closes))
    b = berth("--caller-idle-timeout", "1s")
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 10)
    s.settimeout(10)
    s.connect(b.proxy)
    try:
        s.sendall(f"GET http://{o.hostport}/ {version}\r\nHost: {o.hostport}\r\n\r\n".encode())
        time.sleep(2.5)  # past the caller idle timeout, reading nothing
        data, how = read_to_end(s, timeout=10)
    finally:
        s.close()
    _, _, got = data.partition(b"\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 200 "), data[:100]
    assert len(got) < BODY, len(got)
    assert how == "reset", (framing, version, how, len(got))
