"""review13: a POST that crossed an origin's FIN is sent again only if the origin cannot have read it.

Item 96 retries a request on a reused connection that ended with a clean FIN acknowledging none of it: "the server's
kernel reset it". Not so for an origin that only half-closes at its keep-alive timer (shutdown(SHUT_WR)) and reads on
(a lingering close that parses what still comes, or an app that dispatches every request it reads): its kernel takes
and acknowledges the request after its FIN left, the app reads it, and a resend is the same POST twice. The FIN alone
cannot tell the two apart: only what follows it can (an acknowledgement: the request was taken; a reset: refused)."""
import socket
import time

from hostile_wire import connect, read_to_end

RUNS = 5


def _answer_half_close_read_on(conn):
    """One keep-alive answer whose FIN leaves with it (corked), then the origin reads on: a request that still comes
    is read (and recorded), though it can no longer be answered."""
    msg = conn.read_request()
    if msg is None:
        return
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    conn.sock.shutdown(socket.SHUT_WR)
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 0)
    conn.sock.settimeout(1)
    try:
        conn.read_request()
    except (OSError, EOFError):
        pass


def test_a_post_read_by_a_half_closed_origin_is_not_sent_twice(berth, raw_origin):
    o = raw_origin(_answer_half_close_read_on)
    b = berth()
    hp = o.hostport
    for _ in range(RUNS):
        s = connect(b.proxy, timeout=10)
        s.sendall((f"POST http://{hp}/first HTTP/1.1\r\nHost: {hp}\r\nContent-Length: 3\r\n\r\nabc"
                   f"POST http://{hp}/second HTTP/1.1\r\nHost: {hp}\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc")
                  .encode())
        read_to_end(s, timeout=10)
        s.close()
    time.sleep(1.2)
    seconds = sum(1 for _, msg in o.requests if msg.target.endswith("/second"))
    assert seconds <= RUNS, f"{seconds} deliveries of {RUNS} POSTs: a half-closed origin that read one got it again"
