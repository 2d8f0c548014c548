"""Review of the admin connection loop: a late /pause?drain= answer outlives the idle timeout, and a client that ends
inside a request body is let go at once."""
import socket

from berthkit import echo_handler, open_tunnel
from hostile_wire import connect, read_to_end, status_of


def test_a_drain_longer_than_the_admin_idle_timeout_still_gets_its_answer(berth, raw_origin):
    """/pause?drain=2m waits for the busy connection; the admin's 60 s idle timeout is for a silent client between
    requests, not for one waiting on berth's own answer. This test waits about 63 s."""
    o = raw_origin(echo_handler)
    b = berth("--connect-port", str(o.port), "--caller-idle-timeout", "5m")
    t = open_tunnel(b, o)
    s = connect(b.admin, timeout=90)
    try:
        s.sendall(f"POST /pause?upstream={o.hostport}&drain=2m HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  f"Connection: close\r\n\r\n".encode())
        # Past the admin idle timeout, the tunnel ends and the drain with it.
        s.settimeout(63)
        try:
            early = s.recv(4096)
        except socket.timeout:
            early = None
        assert early is None, f"the admin connection ended before the drain did: {early!r}"
        t.close()
        raw, how = read_to_end(s, timeout=20)
    finally:
        s.close()
        t.close()
    assert status_of(raw) == 200, (how, raw[:300])
    assert b'"in_flight":0' in raw, raw[:300]


def test_a_client_that_ends_inside_a_request_body_is_closed_at_once(berth):
    """The body of a POST can never arrive once the client sent its FIN: the answer, then the close, not a wait
    for the idle timeout."""
    b = berth()
    s = connect(b.admin, timeout=30)
    try:
        s.sendall(b"POST /evict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\n\r\nabc")
        s.shutdown(socket.SHUT_WR)
        raw, how = read_to_end(s, timeout=20)
    finally:
        s.close()
    assert status_of(raw) == 200, raw[:300]
    assert how == "fin", (how, raw[:300])
