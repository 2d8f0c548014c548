"""Tunnels relay a half-close (issue 23, item 11): a FIN from one side reaches the other, and the other direction carries on."""
import socket
import threading

from berthkit import open_tunnel, stats, wait_for
from hostile_wire import connect, read_to_end


def _read_until_eof(conn):
    """Everything the peer sends until its FIN."""
    got = b""
    while True:
        data = conn.read_some()
        if not data:
            return got
        got += data


def test_caller_half_close_still_gets_the_origins_answer(berth, raw_origin):
    """The origin answers only after it sees the caller's FIN (a request whose end is the FIN)."""
    def handler(conn):
        got = _read_until_eof(conn)
        conn.sendall(b"answer:" + got)
        conn.sock.shutdown(socket.SHUT_WR)
        _read_until_eof(conn)

    o = raw_origin(handler)
    b = berth("--connect-port", str(o.port))
    s = open_tunnel(b, o)
    try:
        s.sendall(b"hello")
        s.shutdown(socket.SHUT_WR)
        raw, how = read_to_end(s, timeout=10)
    finally:
        s.close()
    assert raw == b"answer:hello", (how, raw)
    assert how == "fin", (how, raw)
    wait_for(lambda: stats(b)["totals"]["callers"] == 0, timeout=10, what="the tunnel's session to end")


def test_origin_half_close_still_takes_the_callers_bytes(berth, raw_origin):
    """The origin speaks first and half-closes; the caller answers after seeing that FIN."""
    heard = []
    done = threading.Event()

    def handler(conn):
        conn.sendall(b"greeting")
        conn.sock.shutdown(socket.SHUT_WR)
        heard.append(_read_until_eof(conn))
        done.set()

    o = raw_origin(handler)
    b = berth("--connect-port", str(o.port))
    s = open_tunnel(b, o)
    try:
        got = b""
        s.settimeout(10)
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
        assert got == b"greeting", got
        s.sendall(b"late-reply")
        s.shutdown(socket.SHUT_WR)
        assert done.wait(10), "the origin never saw the caller's FIN"
        rest, how = read_to_end(s, timeout=10)
    finally:
        s.close()
    assert heard == [b"late-reply"], heard
    assert rest == b"" and how == "fin", (how, rest)
    wait_for(lambda: stats(b)["totals"]["callers"] == 0, timeout=10, what="the tunnel's session to end")


def test_a_half_closed_tunnel_still_ends_on_the_idle_timeout(berth, raw_origin):
    """The origin never answers and never closes: the caller idle timeout ends the tunnel."""
    release = threading.Event()

    def handler(conn):
        _read_until_eof(conn)
        release.wait(20)

    o = raw_origin(handler)
    b = berth("--connect-port", str(o.port), "--caller-idle-timeout", "1s")
    s = open_tunnel(b, o)
    try:
        s.sendall(b"x")
        s.shutdown(socket.SHUT_WR)
        raw, how = read_to_end(s, timeout=15)
    finally:
        s.close()
        release.set()
    assert raw == b"" and how in ("fin", "reset"), (how, raw)
    wait_for(lambda: stats(b)["totals"]["callers"] == 0, timeout=10, what="the tunnel's session to end")


def test_an_upgrade_tunnel_relays_the_callers_half_close_too(berth, raw_origin):
    def handler(conn):
        if conn.read_request_head() is None:
            return
        conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n")
        got = _read_until_eof(conn)
        conn.sendall(b"answer:" + got)
        conn.sock.shutdown(socket.SHUT_WR)
        _read_until_eof(conn)

    o = raw_origin(handler)
    b = berth()
    s = connect(b.proxy, timeout=15)
    try:
        s.sendall(f"GET http://{o.hostport}/ws HTTP/1.1\r\nHost: {o.hostport}\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = s.recv(4096)
            assert chunk, head
            head += chunk
        assert head.startswith(b"HTTP/1.1 101") and head.endswith(b"\r\n\r\n"), head
        s.sendall(b"hello")
        s.shutdown(socket.SHUT_WR)
        raw, how = read_to_end(s, timeout=10)
    finally:
        s.close()
    assert raw == b"answer:hello" and how == "fin", (how, raw)
    wait_for(lambda: stats(b)["totals"]["callers"] == 0, timeout=10, what="the tunnel's session to end")
