"""linger2: a POST crossing an origin's idle close, off loopback: the FIN comes a round trip before the reset.

Items 96 and 99 send such a POST again only once the origin's kernel has reset it (the connection gone, TCP_CLOSE):
a FIN alone cannot prove the origin did not read it, since an origin may half-close and read on. On loopback the
reset is in before berth looks. Over a link with a real round trip (20 ms each way here, `DelayedLink`, as netem is
missing on this VM) the FIN arrives with the answer and the reset of the crossed request only a round trip after the
request left: looked at when the FIN is read, the connection is still CLOSE_WAIT, and the POST was a 502
`upstream-reset`. berth now waits for the reset (about a retransmission timeout from the request's send, bounded)
before it decides; an origin that only half-closed and reads on never resets it, and never gets the POST twice.

Two ways the FIN meets the next request. It came with the last answer (one segment), so it is in berth's socket
before the pipelined POST leaves: berth looks for it there (one read, only where the connection is taken again in the
same turn) and sends the POST on a fresh connection instead (reliability 135; before, the POST crossed a FIN berth
already had, and an origin that read its head and closed over its body, its ACK delayed, got it twice now and then:
a CI run, 6 deliveries of 5). Or the origin closes a little after its answer (`LATE`, 10 ms), so the FIN is on the
wire while the POST is: the crossing the reset wait is for."""
import socket
import time

import pytest

from berthkit import RawOrigin
from berthkit.delayed_link import DelayedLink, LinkUnavailable
from hostile_wire import connect, read_to_end

RUNS = 5
# The origin's close comes this long after its answer: the answer reaches berth (20 ms), the pipelined POST leaves at
# once, and the FIN is sent 10 ms after the answer, so it crosses the POST on the wire (each is 20 ms on the way).
LATE = 0.01


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


def _answer(conn, late):
    """Reads one request and answers it keep-alive; the FIN that the caller sends next goes in the same segment
    (corked), or `LATE` after the answer when `late`. False when no request came."""
    msg = conn.read_request()
    if msg is None:
        return False
    if late:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        time.sleep(LATE)
    else:
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    return True


def _answer_then_close(conn, late=False):
    """One keep-alive answer and the socket closed: a request that arrives after is reset by the origin's kernel,
    never read."""
    if _answer(conn, late):
        conn.sock.close()


def _answer_half_close_read_on(conn, late=False):
    """The same answer and FIN, but only the sending side shut: a request that comes is read (and recorded)."""
    if not _answer(conn, late):
        return
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
    if not _answer(conn, False):
        return
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


def _run(link, handler, berth, body=b"abc"):
    """RUNS pipelined pairs through one berth; the statuses each caller read, and the origin's (client port, target)
    of each request it read, by target."""
    o = _origin_in(link, handler)
    b = berth()
    try:
        seen = [_pipelined_posts(b, o.hostport, body=body) for _ in range(RUNS)]
        # A read-on origin may still be reading a POST berth gave up on: its 1 s read ends first.
        time.sleep(1.2)
        got = [(port, msg.target.rsplit("/", 1)[1]) for port, msg in o.requests]
    finally:
        o.close()
    return seen, got


def _fresh_each_time(got):
    """Each POST reached the origin once, and each second one on another connection than its first."""
    firsts = [port for port, t in got if t == "first"]
    seconds = [port for port, t in got if t == "second"]
    assert len(firsts) == RUNS and len(seconds) == RUNS, f"each POST reaches the origin exactly once: {got}"
    assert not set(firsts) & set(seconds), f"a second POST went on the connection that had the FIN: {got}"


def test_a_post_whose_reset_comes_a_round_trip_after_the_fin_is_sent_again(berth, link):
    """The FIN crosses the POST on the wire: berth waits for the reset, and the POST goes again, once."""
    seen, got = _run(link, lambda c: _answer_then_close(c, late=True), berth)
    assert seen == [[200, 200]] * RUNS, f"the second POST met the origin's close: {seen}"
    _fresh_each_time(got)


def test_a_post_behind_an_answer_that_carried_the_fin_goes_on_a_fresh_connection(berth, link):
    seen, got = _run(link, _answer_then_close, berth)
    assert seen == [[200, 200]] * RUNS, seen
    _fresh_each_time(got)


def test_a_post_behind_a_half_close_that_came_with_the_answer_goes_on_a_fresh_connection(berth, link):
    """The half-closed origin would read a POST sent on that connection (and could not answer it): berth, which has
    the FIN before it sends, never sends it there (before: [200, 502] every time)."""
    seen, got = _run(link, _answer_half_close_read_on, berth)
    assert seen == [[200, 200]] * RUNS, seen
    _fresh_each_time(got)


def test_a_post_a_half_closed_origin_read_is_not_sent_twice_off_loopback(berth, link):
    """A FIN on the wire with the POST and no reset after it: berth waits its bound, then answers 502 as before, and
    the origin has it once."""
    seen, got = _run(link, lambda c: _answer_half_close_read_on(c, late=True), berth)
    assert sorted(t for _, t in got) == ["first"] * RUNS + ["second"] * RUNS, f"a POST read was sent again: {got}"
    assert seen == [[200, 502]] * RUNS, seen


@pytest.mark.parametrize("size", [1200, 30000])
def test_a_post_behind_a_half_close_that_would_read_its_head_is_sent_once(berth, link, size):
    """The origin would read the next head and close over its body (a reset the origin's ACK may not precede): the
    POST goes on a fresh connection, and the origin has it once."""
    seen, got = _run(link, _answer_half_close_read_head_close, berth, body=b"p" * size)
    assert seen == [[200, 200]] * RUNS, seen
    _fresh_each_time(got)
