"""A peer that vanished after acknowledging part of a request head berth sent it (h-drain): the server cannot have
read a whole head, so the request goes again on a fresh connection whatever its method, as when it acknowledged none.

The origin's sockets have a small receive buffer and its first connection stops reading after its first answer: the
next request's 40 KB head is acknowledged up to the window, then the connection vanishes (nftables drops it both
ways), so the rest of the head is never acknowledged. Before the fix, any byte acknowledged counted the request as
"acknowledged": a live slow server's rules, a 504 `read-timeout` after the socket timeouts."""
import socket
import threading

from berthkit import RawClient, get_req, upstream_stats

PAD = b"".join(b"X-Pad-%d: %s\r\n" % (i, b"p" * 4000) for i in range(10))


def _origin(raw_origin, pause=30.0):
    """An origin whose first connection answers once, then reads nothing for `pause` seconds; every other request is
    answered with its body. Its sockets get a 4 KiB receive buffer, so a large head is acknowledged only in part."""
    first = threading.Event()
    seen = []

    def handler(conn):
        stalls = not first.is_set()
        first.set()
        while not conn.origin.stopped.is_set():
            msg = conn.read_request()
            if msg is None:
                return
            seen.append((stalls, msg.target))
            body = msg.body or b""
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
            if stalls and len(seen) == 1:
                conn.origin.stopped.wait(pause)

    o = raw_origin(handler)
    o.seen = seen
    o.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    return o


def test_a_head_acknowledged_in_part_by_a_vanished_peer_goes_again(berth, raw_origin, vanish):
    o = _origin(raw_origin)
    b = berth("--socket-timeout", "1s")
    c = RawClient(b.proxy, 15)
    try:
        assert c.request(get_req(o.hostport, "/warm", method="POST", body=b"warm"), "POST").status == 200
        c.sendall(get_req(o.hostport, "/after", method="POST", body=b"after", extra=PAD))
        # Its kernel takes what its window holds of the head at once; then the connection vanishes.
        threading.Event().wait(0.1)
        vanish(o.port)
        r = c.read_response("POST")
    finally:
        c.close()
    assert (r.status, r.body) == (200, b"after"), (r.status, r.headers, r.body[:200])
    up = upstream_stats(b, o.hostport)
    assert up["replays"]["dead-peer"] == 1 and up["connections"]["closed"]["dead-peer"] == 1, up


def test_a_live_peer_that_takes_nothing_more_of_a_head_loses_the_connection_not_the_request(berth, raw_origin):
    """The same head to a peer that is alive but reads nothing for 0.8 s (its window full). Its kernel cannot be
    told from a dead one's that soon (it may leave window probes unanswered for 500 ms, tcp_invalid_ratelimit), so
    the connection is given up as dead after a dead-peer timeout with no byte more taken; but the server never had
    a whole head, so the request runs once, on the fresh connection, and the slow one ends with a reset."""
    o = _origin(raw_origin, pause=0.8)
    b = berth("--socket-timeout", "2s")
    c = RawClient(b.proxy, 15)
    try:
        assert c.request(get_req(o.hostport, "/warm", method="POST", body=b"warm"), "POST").status == 200
        r = c.request(get_req(o.hostport, "/after", method="POST", body=b"after", extra=PAD), "POST")
    finally:
        c.close()
    assert (r.status, r.body) == (200, b"after"), (r.status, r.headers, r.body[:200])
    threading.Event().wait(1.0)  # the first connection wakes and finds the reset, not a request
    assert o.seen == [(True, "/warm"), (False, "/after")], o.seen
