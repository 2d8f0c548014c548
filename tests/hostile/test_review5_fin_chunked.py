"""review5 (differential old-vs-new): an invalid chunked request body (`zz` as a chunk size) followed by the caller's
FIN. Before: the FIN, read before the relay reached the body, was taken for an abort mid-body: a silent close. After:
buffered bytes that break the body settle it as bytes that end it do, and the relay answers the 400 (Berth-Error:
bad-request), then the connection closes with a FIN."""
import socket

from berthkit import keepalive_loop
from hostile_wire import assert_whole_answer_then_fin, connect, read_to_end


def _ok(conn, msg):
    conn.respond(200, b"ok")


def test_a_bad_chunked_body_then_a_fin_gets_its_400(berth, raw_origin):
    o = raw_origin(keepalive_loop(_ok))
    b = berth()
    for run in range(20):
        s = connect(b.proxy)
        try:
            s.sendall(f"POST http://{o.hostport}/up HTTP/1.1\r\nHost: {o.hostport}\r\n"
                      f"Transfer-Encoding: chunked\r\n\r\nzz\r\n".encode())
            s.shutdown(socket.SHUT_WR)
            data, how = read_to_end(s, timeout=10)
        finally:
            s.close()
        assert_whole_answer_then_fin(data, how, 400, "bad-request", note=(run,))
