"""Peers that vanish without a word, as an adversary (h-vanish): an origin's established connections dropped or reset
by nftables while a request is at each stage; the caller must get its answer, a clean error, or a cut, never a hang."""
import socket
import threading
import time

import pytest

from berthkit import keepalive_loop, upstream_stats
from e2e_helpers import send
from vanish_helpers import vanish  # noqa: F401  (a fixture)


def _echo(conn, msg):
    body = msg.body or b""
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))


class _Counting:
    """An origin that answers each request with its body and counts the requests that reached it, by target."""

    def __init__(self, raw_origin):
        self.seen = []
        self.lock = threading.Lock()

        def respond(conn, msg):
            with self.lock:
                self.seen.append(msg.target)
            _echo(conn, msg)

        self.raw = raw_origin(keepalive_loop(respond))
        self.hostport, self.port = self.raw.hostport, self.raw.port


@pytest.mark.parametrize("flags", [["--dead-peer-timeout", "1s"], ["--dead-peer-timeout", "5s"]], ids=["equal", "above"])
def test_the_socket_timeout_still_makes_the_dead_peer_check(berth, raw_origin, vanish, flags):
    """docs/configuration.md: a dead-peer-timeout not below the socket timeout (as a destination's or a
    Berth-Socket-Timeout's may be) turns the *early* check off, and 'the socket timeout still makes the same check'.
    A POST on a pooled connection whose peer vanished must then go again at the socket timeout (its kernel
    acknowledged nothing). Before: no check at all, 504 read-timeout after two socket timeouts."""
    b = berth("--socket-timeout", "1s", *flags)
    o = _Counting(raw_origin)
    assert send(b.proxy, o.hostport, method="POST", path="/warm", body=b"warm").status == 200
    vanish(o.port)
    r = send(b.proxy, o.hostport, method="POST", path="/after", body=b"after", timeout=15)
    assert (r.status, r.body) == (200, b"after"), r
    up = upstream_stats(b, o.hostport)
    assert up["replays"]["dead-peer"] == 1 and up["connections"]["closed"]["dead-peer"] == 1, up


def _tunnel(b, hostport):
    s = socket.create_connection(b.proxy, timeout=5)
    s.sendall(f"CONNECT {hostport} HTTP/1.1\r\nHost: {hostport}\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1)
        assert chunk, head
        head += chunk
    assert head.startswith(b"HTTP/1.1 200"), head
    return s


def _tcp_echo(conn):
    while True:
        data = conn.sock.recv(4096)
        if not data:
            return
        conn.sock.sendall(data)


def test_a_tunnel_whose_peer_vanished_ends_though_the_caller_keeps_talking(berth, raw_origin, vanish):
    """A CONNECT tunnel (a WebSocket, say) whose upstream vanishes while its caller keeps sending a small ping every
    0.3 s: nothing of it is ever acknowledged, and nothing comes back. Each ping restarted the tunnel's idle timeout
    (2 s here), so the tunnel stayed open until the kernel gave up retransmitting (about 15 minutes, tcp_retries2):
    the caller hung. It must end within a few idle timeouts."""
    o = raw_origin(_tcp_echo)
    b = berth("--caller-idle-timeout", "2s", "--connect-port", str(o.port))
    s = _tunnel(b, o.hostport)
    s.sendall(b"ping")
    assert s.recv(16) == b"ping"
    vanish(o.port)
    s.settimeout(0.3)
    ended, deadline = None, time.monotonic() + 15
    while ended is None and time.monotonic() < deadline:
        try:
            s.sendall(b"ping")
            data = s.recv(16)
            if not data:
                ended = "eof"
        except socket.timeout:
            pass
        except OSError as e:
            ended = repr(e)
    s.close()
    assert ended is not None, "the tunnel to a vanished peer was still open after 15 s of unanswered pings"
    assert upstream_stats(b, o.hostport)["busy"] == 0
