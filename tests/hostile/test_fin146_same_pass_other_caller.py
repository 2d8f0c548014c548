"""Another caller's request read in the same loop pass as an answer that carried the origin's FIN (item 146).

Item 135 looked for the FIN behind an answer when the same caller's pipelined request or a pool waiter takes the
connection before the loop polls again. A request from a different caller, read in that same pass, met the connection
back in the pool with the FIN still unread: it went out across it, and the origin (half-closed, reading on) took a
request it could no longer answer. berth is stopped (SIGSTOP) while the answer, its FIN and the other caller's
request arrive, so that one poll finds all of them."""
import os
import signal
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


def _status(s):
    data, _ = read_to_end(s, timeout=10)
    return int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1 ") else None


def _one_run(b, method):
    go = threading.Event()
    o = RawOrigin(_origin(go))
    hp = o.hostport
    body = b"" if method == "GET" else b"x=1"
    a = connect(b.proxy, timeout=10)
    other = connect(b.proxy, timeout=10)
    try:
        a.sendall(f"GET http://{hp}/first HTTP/1.1\r\nHost: {hp}\r\nConnection: close\r\n\r\n".encode())
        deadline = time.monotonic() + 10
        while not o.requests and time.monotonic() < deadline:
            time.sleep(0.01)
        assert o.requests, "the origin never got the first request"
        time.sleep(0.05)  # berth is back in its poll, its other caller's connection accepted and idle
        os.kill(b.pid, signal.SIGSTOP)
        try:
            go.set()
            time.sleep(0.1)  # the answer and its FIN are in berth's socket
            other.sendall(f"{method} http://{hp}/second HTTP/1.1\r\nHost: {hp}\r\nContent-Length: {len(body)}\r\n"
                          f"Connection: close\r\n\r\n".encode() + body)
            time.sleep(0.1)
        finally:
            os.kill(b.pid, signal.SIGCONT)
        got = (_status(a), _status(other))
        time.sleep(1.2)  # the half-closed origin's read on ends
        requests = [(port, msg.target) for port, msg in o.requests]
    finally:
        a.close()
        other.close()
        o.close()
    return got, requests


def _check(berth, method):
    b = berth()
    for _ in range(3):
        got, requests = _one_run(b, method)
        assert got == (200, 200), (got, requests)
        firsts = {port for port, t in requests if t.endswith("/first")}
        seconds = [port for port, t in requests if t.endswith("/second")]
        # Delivered once, and never on the connection whose answer carried the FIN.
        assert len(seconds) == 1 and not firsts & set(seconds), requests


def test_another_callers_get_in_the_same_pass_goes_on_a_fresh_connection(berth):
    _check(berth, "GET")


def test_another_callers_post_in_the_same_pass_goes_on_a_fresh_connection(berth):
    _check(berth, "POST")
