"""What lies behind an answer in the socket when a pipelined request takes the connection in the same turn (item 135).

berth looks once more for the origin's end before the next request goes out on that connection: a FIN or a reset
behind the answer sends the request on a fresh connection and is no protocol error, while bytes behind it are one
(`responses_with_extra_bytes`). On loopback every segment is in before berth reads the answer."""
import socket
import struct
import threading
import time

from berthkit import RawOrigin
from berthkit.admin import stats
from hostile_wire import answer_with_fin_then_read_on, connect, read_to_end

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


def _answer_then(after):
    def handler(conn):
        if conn.read_request() is None:
            return
        if after.get("reset"):
            # Sent at once (an abortive close drops what a cork still holds), then the reset.
            conn.sendall(ANSWER)
            conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        else:
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
            conn.sendall(ANSWER + after.get("bytes", b""))
        conn.sock.close()
    return handler


def _two_pipelined(b, hp):
    s = connect(b.proxy, timeout=10)
    try:
        s.sendall(f"GET http://{hp}/first HTTP/1.1\r\nHost: {hp}\r\n\r\n"
                  f"GET http://{hp}/second HTTP/1.1\r\nHost: {hp}\r\nConnection: close\r\n\r\n".encode())
        data, _ = read_to_end(s, timeout=10)
    finally:
        s.close()
    return [int(part.split(b" ", 1)[0]) for part in data.split(b"HTTP/1.1 ")[1:]]


def _run(berth, after, runs=5):
    o = RawOrigin(_answer_then(after))
    b = berth()
    try:
        seen = [_two_pipelined(b, o.hostport) for _ in range(runs)]
        got = [(port, msg.target) for port, msg in o.requests]
    finally:
        o.close()
    return seen, got, stats(b.admin)["totals"]


def _each_second_on_a_fresh_connection(got, runs=5):
    firsts = {port for port, t in got if t.endswith("/first")}
    seconds = [port for port, t in got if t.endswith("/second")]
    assert len(seconds) == runs and not firsts & set(seconds), got


def test_a_reset_behind_the_answer_is_no_extra_bytes(berth):
    seen, got, totals = _run(berth, {"reset": True})
    assert seen == [[200, 200]] * 5, seen
    _each_second_on_a_fresh_connection(got)
    assert totals["responses_with_extra_bytes"] == 0, totals


def test_a_fin_behind_the_answer_is_no_extra_bytes(berth):
    seen, got, totals = _run(berth, {})
    assert seen == [[200, 200]] * 5, seen
    _each_second_on_a_fresh_connection(got)
    assert totals["responses_with_extra_bytes"] == 0, totals


def test_bytes_behind_the_answer_are_counted_and_never_taken_for_the_next(berth):
    seen, got, totals = _run(berth, {"bytes": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nforge"})
    assert seen == [[200, 200]] * 5, seen
    _each_second_on_a_fresh_connection(got)
    # Both answers of each pair had the bytes behind them (the origin adds them to every answer).
    assert totals["responses_with_extra_bytes"] == 10, totals


def _slow_answer_then_half_close(conn):
    """Answers its first request 0.3 s late, the FIN in the same segment, and reads on: a request sent on this
    connection after the answer would be read by an origin that can no longer answer it."""
    if conn.read_request() is None:
        return
    time.sleep(0.3)
    answer_with_fin_then_read_on(conn, ANSWER)


def test_a_waiter_handed_a_connection_whose_answer_carried_the_fin_goes_on_a_fresh_one(berth):
    """--max-per-route 1: the second caller waits for the first one's connection, which the release hands it in the
    same turn; its FIN came with the answer, so the request goes on a new connection (without the look: a 502)."""
    o = RawOrigin(_slow_answer_then_half_close)
    b = berth("--max-per-route", "1")
    got = {}

    def call(name):
        s = connect(b.proxy, timeout=10)
        try:
            s.sendall(f"GET http://{o.hostport}/{name} HTTP/1.1\r\nHost: {o.hostport}\r\nConnection: close\r\n\r\n"
                      .encode())
            data, _ = read_to_end(s, timeout=10)
        finally:
            s.close()
        got[name] = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1 ") else None

    try:
        first = threading.Thread(target=call, args=("first",))
        first.start()
        time.sleep(0.1)  # the first holds the one connection now: the second waits for it
        call("second")
        first.join(10)
        time.sleep(1.2)  # a read-on origin's 1 s read ends first
        requests = [(port, msg.target) for port, msg in o.requests]
    finally:
        o.close()
    assert got == {"first": 200, "second": 200}, (got, requests)
    firsts = {port for port, t in requests if t.endswith("/first")}
    seconds = [port for port, t in requests if t.endswith("/second")]
    assert len(seconds) == 1 and not firsts & set(seconds), requests
