"""The reset wait (linger2) with a caller that keeps pipelining while berth waits (review15): a third request sent
during the wait is answered after the crossed POST's retry, in order, and each POST reaches the origin once."""
import socket
import time

import pytest

from berthkit import RawOrigin
from berthkit.delayed_link import DelayedLink, LinkUnavailable
from hostile_wire import connect, read_to_end

RUNS = 4


@pytest.fixture
def link():
    try:
        with DelayedLink(delay=0.02) as l:
            yield l
    except LinkUnavailable as e:
        pytest.skip(str(e))


def _answer_then_close(conn):
    """One keep-alive answer, its FIN in the same segment, the socket closed: the next request is reset unread.
    A connection's later requests (after a retry) are answered normally."""
    first = True
    while True:
        msg = conn.read_request()
        if msg is None:
            return
        body = msg.target.rsplit("/", 1)[1].encode()
        if first and msg.target.endswith("/first"):
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
            conn.sock.close()
            return
        first = False
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)


def test_a_request_pipelined_during_the_reset_wait_is_answered_in_order(berth, link):
    with link.inside():
        o = RawOrigin(_answer_then_close, host=link.peer)
    b = berth()
    try:
        seen = []
        for _ in range(RUNS):
            hp = o.hostport
            s = connect(b.proxy, timeout=10)
            s.sendall(f"POST http://{hp}/first HTTP/1.1\r\nHost: {hp}\r\nContent-Length: 3\r\n\r\nabc"
                      f"POST http://{hp}/second HTTP/1.1\r\nHost: {hp}\r\nContent-Length: 3\r\n\r\nabc".encode())
            time.sleep(0.03)  # the second POST has crossed the FIN: berth waits for the reset now
            s.sendall(f"GET http://{hp}/third HTTP/1.1\r\nHost: {hp}\r\nConnection: close\r\n\r\n".encode())
            data, _ = read_to_end(s, timeout=10)
            s.close()
            seen.append([part.rsplit(b"\r\n\r\n", 1)[-1] for part in data.split(b"HTTP/1.1 ")[1:]])
        targets = sorted(msg.target.rsplit("/", 1)[1] for _, msg in o.requests)
    finally:
        o.close()
    assert seen == [[b"first", b"second", b"third"]] * RUNS, seen
    assert targets == sorted(["first", "second", "third"] * RUNS), targets
