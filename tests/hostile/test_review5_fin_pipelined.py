"""review5 (differential old-vs-new): a caller that sends several complete pipelined requests and then half-closes
(shutdown(SHUT_WR)). Before: berth answered the first and closed, dropping the rest without an answer. After (as nginx
and HAProxy do): every complete request already received is answered, in order, then berth closes with a FIN; a head
cut short by the FIN is not forwarded and gets no answer, as a lone one does."""
import socket

from berthkit import keepalive_loop
from hostile_wire import connect, read_to_end


def _echo_target(conn, msg):
    conn.respond(200, b"path=" + msg.target.split("/", 3)[-1].encode())


def _pipelined_then_fin(b, raw):
    s = connect(b.proxy)
    try:
        s.sendall(raw)
        s.shutdown(socket.SHUT_WR)
        data, how = read_to_end(s, timeout=10)
    finally:
        s.close()
    assert how == "fin", (how, data)
    return data


def test_every_complete_pipelined_request_is_answered_after_a_fin(berth, raw_origin):
    o = raw_origin(keepalive_loop(_echo_target))
    b = berth()
    for run in range(10):
        raw = b"".join(f"GET http://{o.hostport}/r{i} HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode() for i in range(4))
        data = _pipelined_then_fin(b, raw)
        assert data.count(b"HTTP/1.1 200 ") == 4, (run, data)
        bodies = [part.rsplit(b"\r\n\r\n", 1)[-1] for part in data.split(b"HTTP/1.1 200 ")[1:]]
        assert bodies == [b"path=r0", b"path=r1", b"path=r2", b"path=r3"], (run, data)


def test_a_head_cut_by_the_fin_is_not_forwarded(berth, raw_origin):
    o = raw_origin(keepalive_loop(_echo_target))
    b = berth()
    raw = (f"GET http://{o.hostport}/r0 HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n"
           f"GET http://{o.hostport}/r1 HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n"
           f"GET http://{o.hostport}/cut HTTP/1.1\r\nHost: ").encode()
    data = _pipelined_then_fin(b, raw)
    assert data.count(b"HTTP/1.1 ") == 2, data
    assert data.endswith(b"path=r1"), data
    assert [m.target.rsplit("/", 1)[-1] for _, m in o.requests] == ["r0", "r1"]
