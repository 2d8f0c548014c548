"""What lies behind an answer in the socket when a pipelined request takes the connection in the same turn (item 135).

berth looks once more for the origin's end before the next request goes out on that connection: a FIN or a reset
behind the answer sends the request on a fresh connection and is no protocol error, while bytes behind it are one
(`responses_with_extra_bytes`). On loopback every segment is in before berth reads the answer."""
import socket
import struct

from berthkit import RawOrigin
from berthkit.admin import stats
from hostile_wire import connect, read_to_end

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
