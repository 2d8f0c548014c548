"""adv1: a POST on a reused connection to a live origin a long round trip away is not taken for a dead peer.

The dead-peer check looks at the kernel `dead-peer-timeout` (250 ms) after a request leaves on a reused connection,
and a request none of whose bytes the peer's kernel has acknowledged by then is taken for sent to a vanished peer:
the connection is reset and the request goes again on a fresh one. The 250 ms covered the origin's delayed ACK (up to
200 ms), not the way there and back: an ACK cannot be back before a round trip. Over a link of 150 ms each way
(`DelayedLink`, RTT 300 ms) to an origin that answers 0.5 s after a request, every POST on a reused connection was
read by the origin and then sent to it again (main's binary: 2 deliveries of the second POST in every run). After:
the look waits a round trip (`tcpi_rtt` + 4 × `tcpi_rttvar`, the connection's own measure) on top of the timeout."""
import time

import pytest

from berthkit import RawOrigin
from berthkit.delayed_link import DelayedLink, LinkUnavailable
from hostile_wire import connect

RUNS = 3


@pytest.fixture
def link():
    try:
        with DelayedLink(delay=0.15) as l:
            yield l
    except LinkUnavailable as e:
        pytest.skip(str(e))


def _slow_keep_alive(conn):
    """Answers each request 0.5 s after reading it, keep-alive."""
    while True:
        msg = conn.read_request()
        if msg is None:
            return
        time.sleep(0.5)
        conn.respond(200, b"ok " + msg.target.rsplit("/", 1)[1].encode())


def _post(s, hp, name):
    """One POST on the caller connection `s`; the answer's body."""
    s.sendall(f"POST http://{hp}/{name} HTTP/1.1\r\nHost: {hp}\r\nContent-Length: 3\r\n\r\nabc".encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        got = s.recv(65536)
        assert got, buf
        buf += got
    head, body = buf.split(b"\r\n\r\n", 1)
    length = int([line.split(b":", 1)[1] for line in head.split(b"\r\n")[1:]
                  if line.lower().startswith(b"content-length:")][0])
    while len(body) < length:
        got = s.recv(65536)
        assert got, head
        body += got
    return head.split(b" ", 2)[1], body


def test_a_post_on_a_reused_connection_across_a_long_round_trip_reaches_the_origin_once(berth, link):
    with link.inside():
        o = RawOrigin(_slow_keep_alive, host=link.peer)
    b = berth("--socket-timeout", "5s")
    try:
        for run in range(RUNS):
            s = connect(b.proxy, timeout=10)
            try:
                assert _post(s, o.hostport, f"first{run}") == (b"200", f"ok first{run}".encode())
                # The second goes on the connection the first left in the pool: the dead-peer check is armed.
                assert _post(s, o.hostport, f"second{run}") == (b"200", f"ok second{run}".encode())
            finally:
                s.close()
        time.sleep(0.5)
        got = sorted(msg.target.rsplit("/", 1)[1] for _, msg in o.requests)
    finally:
        o.close()
    want = sorted([f"first{r}" for r in range(RUNS)] + [f"second{r}" for r in range(RUNS)])
    assert got == want, f"a POST the origin read was sent to it again: {got}"
