"""A checkout run by posted work (a hand-off) on the pass after a connection went idle, before its FIN is read.

Item 146 reads a connection parked in the running loop pass once before reusing it. Posted work (hand-offs, drain
notices) runs at the urgent priority on the next pass, ahead of the idle reads that pass's poll found: a caller
whose held request a `/pause?mode=reject` answers goes on, inside that hand-off, to its pipelined request, and met
the connection parked in the pass before with its origin's FIN found by the poll but still unread. berth is stopped
(SIGSTOP) while the answer, its FIN and the admin command arrive, so that one poll finds them, the answer first."""
import os
import signal
import socket
import threading
import time

from berthkit import RawOrigin
from hostile_wire import answer_with_fin_then_read_on, connect, read_to_end

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


def _origin(go):
    def handler(conn):
        first = conn.read_request()
        if first is None:
            return
        if first.target.endswith("/first"):
            go.wait(10)
            # Half-closed, it reads on: a request sent across its FIN is recorded and never answered.
            answer_with_fin_then_read_on(conn, ANSWER)
            return
        conn.sendall(ANSWER)
    return handler


def _statuses(s):
    data, _ = read_to_end(s, timeout=10)
    return [int(part.split(b" ", 2)[0]) for part in data.split(b"HTTP/1.1 ")[1:]]


def _admin_post(b, path):
    s = connect(b.admin, timeout=10)
    s.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
    data, _ = read_to_end(s, timeout=10)
    s.close()
    assert data.startswith(b"HTTP/1.1 200"), data


def _one_run(b, method, held_hp):
    go = threading.Event()
    o = RawOrigin(_origin(go))
    hp = o.hostport
    body = b"" if method == "GET" else b"x=1"
    _admin_post(b, f"/pause?upstream={held_hp}&hold=30s")
    a = connect(b.proxy, timeout=10)
    held = connect(b.proxy, timeout=10)
    cmd = connect(b.admin, timeout=10)
    try:
        a.sendall(f"GET http://{hp}/first HTTP/1.1\r\nHost: {hp}\r\nConnection: close\r\n\r\n".encode())
        deadline = time.monotonic() + 10
        while not o.requests and time.monotonic() < deadline:
            time.sleep(0.01)
        assert o.requests, "the origin never got the first request"
        time.sleep(0.05)  # berth is back in its poll, the held request read, the admin connection accepted
        os.kill(b.pid, signal.SIGSTOP)
        try:
            go.set()
            time.sleep(0.1)  # the answer and its FIN are in berth's socket
            # Held in the pass that pools the connection, after its release: no waiter made that release look.
            held.sendall(f"GET http://{held_hp}/held HTTP/1.1\r\nHost: {held_hp}\r\n\r\n"
                         f"{method} http://{hp}/second HTTP/1.1\r\nHost: {hp}\r\nContent-Length: {len(body)}\r\n"
                         f"Connection: close\r\n\r\n".encode() + body)
            time.sleep(0.05)
            cmd.sendall(f"POST /pause?upstream={held_hp}&mode=reject HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        f"Content-Length: 0\r\nConnection: close\r\n\r\n".encode())
            time.sleep(0.1)
        finally:
            os.kill(b.pid, signal.SIGCONT)
        got = (_statuses(a), _statuses(held))
        time.sleep(1.2)  # the half-closed origin's read on ends
        requests = [(port, msg.target) for port, msg in o.requests]
    finally:
        for s in (a, held, cmd):
            s.close()
        o.close()
        _admin_post(b, f"/resume?upstream={held_hp}")
    return got, requests


def _check(berth, method):
    b = berth("--workers", "1")
    parked = socket.socket()
    parked.bind(("127.0.0.1", 0))  # a port nothing listens on: the paused upstream is never reached
    held_hp = f"127.0.0.1:{parked.getsockname()[1]}"
    try:
        for _ in range(3):
            got, requests = _one_run(b, method, held_hp)
            assert got == ([200], [503, 200]), (got, requests)
            firsts = {port for port, t in requests if t.endswith("/first")}
            seconds = [port for port, t in requests if t.endswith("/second")]
            # Delivered once, and never on the connection whose answer carried the FIN.
            assert len(seconds) == 1 and not firsts & set(seconds), requests
    finally:
        parked.close()


def test_a_get_pipelined_behind_a_rejected_hold_goes_on_a_fresh_connection(berth):
    _check(berth, "GET")


def test_a_post_pipelined_behind_a_rejected_hold_goes_on_a_fresh_connection(berth):
    _check(berth, "POST")
