"""linger2: a POST crossing an origin's idle close, off loopback: the FIN comes a round trip before the reset.

Items 96 and 99 send such a POST again only once the origin's kernel has reset it (the connection gone, TCP_CLOSE):
a FIN alone cannot prove the origin did not read it, since an origin may half-close and read on. On loopback the
reset is in before berth looks. Over a link with a real round trip (20 ms each way here, `DelayedLink`, as netem is
missing on this VM) the FIN arrives with the answer and the reset of the crossed request only a round trip after the
request left: looked at when the FIN is read, the connection is still CLOSE_WAIT, and the POST was a 502
`upstream-reset`. berth now waits for the reset (about a retransmission timeout from the request's send, bounded)
before it decides; an origin that only half-closed and reads on never resets it, and never gets the POST twice."""
import socket
import time

import pytest

from berthkit import RawOrigin
from berthkit.delayed_link import DelayedLink, LinkUnavailable
from hostile_wire import connect, read_to_end

RUNS = 5


@pytest.fixture
def link():
    try:
        with DelayedLink(delay=0.02) as l:
            yield l
    except LinkUnavailable as e:
        pytest.skip(str(e))


def _origin_in(link, handler):
    with link.inside():
        return RawOrigin(handler, host=link.peer)


def _answer_then_close(conn):
    """One keep-alive answer, its FIN in the same segment (corked), the socket closed: a request that arrives after
    is reset by the origin's kernel, never read."""
    msg = conn.read_request()
    if msg is None:
        return
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    conn.sock.close()


def _answer_half_close_read_on(conn):
    """The same answer and FIN, but only the sending side shut: a request that comes is read (and recorded)."""
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


def _answer_half_close_read_head_close(conn):
    """The same answer and FIN, then the origin reads the next head only and closes over whatever body it left
    unread (a reset when some is left): the reset comes after the origin read the head."""
    msg = conn.read_request()
    if msg is None:
        return
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    conn.sock.shutdown(socket.SHUT_WR)
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 0)
    conn.sock.settimeout(1)
    try:
        conn.read_request_head()
    except (OSError, EOFError):
        pass


def _pipelined_posts(b, hp, body=b"abc"):
    """A caller pipelines two POSTs: the second takes the pooled connection the moment the first answer is relayed,
    crossing the origin's FIN. Returns the statuses the caller read."""
    s = connect(b.proxy, timeout=10)
    try:
        n = len(body)
        s.sendall(f"POST http://{hp}/first HTTP/1.1\r\nHost: {hp}\r\nContent-Length: {n}\r\n\r\n".encode() + body
                  + f"POST http://{hp}/second HTTP/1.1\r\nHost: {hp}\r\nContent-Length: {n}\r\nConnection: close\r\n\r\n"
                  .encode() + body)
        data, _ = read_to_end(s, timeout=10)
    finally:
        s.close()
    return [int(part.split(b" ", 1)[0]) for part in data.split(b"HTTP/1.1 ")[1:]]


def test_a_post_whose_reset_comes_a_round_trip_after_the_fin_is_sent_again(berth, link):
    o = _origin_in(link, _answer_then_close)
    b = berth()
    try:
        seen = [_pipelined_posts(b, o.hostport) for _ in range(RUNS)]
        targets = sorted(msg.target.rsplit("/", 1)[1] for _, msg in o.requests)
    finally:
        o.close()
    assert seen == [[200, 200]] * RUNS, f"the second POST met the origin's close: {seen}"
    assert targets == ["first"] * RUNS + ["second"] * RUNS, "each POST reaches the origin exactly once"


def test_a_post_a_half_closed_origin_read_is_not_sent_twice_off_loopback(berth, link):
    """No reset follows this FIN: berth waits its bound, then answers 502 as before, and the origin has it once."""
    o = _origin_in(link, _answer_half_close_read_on)
    b = berth()
    try:
        seen = [_pipelined_posts(b, o.hostport) for _ in range(RUNS)]
        time.sleep(1.2)
        seconds = sum(1 for _, msg in o.requests if msg.target.endswith("/second"))
    finally:
        o.close()
    assert seconds == RUNS, f"{seconds} deliveries of {RUNS} POSTs: a half-closed origin that read one got it again"
    assert seen == [[200, 502]] * RUNS, seen


@pytest.mark.parametrize("size", [1200, 30000])
def test_a_post_whose_head_a_half_closed_origin_read_before_its_reset_is_not_sent_twice(berth, link, size):
    """The origin reads the crossed request's head and closes over its body (a reset, a round trip behind the FIN):
    its kernel acknowledged the request first (a read of all of it, or every second full segment at once), so berth
    answers 502 and the origin has it once."""
    o = _origin_in(link, _answer_half_close_read_head_close)
    b = berth()
    try:
        seen = [_pipelined_posts(b, o.hostport, body=b"p" * size) for _ in range(RUNS)]
        time.sleep(1.2)
        seconds = sum(1 for _, msg in o.requests if msg.target.endswith("/second"))
    finally:
        o.close()
    assert seconds == RUNS, f"{seconds} deliveries of {RUNS} POSTs: an origin that read the head got it again"
    assert seen == [[200, 502]] * RUNS, seen
