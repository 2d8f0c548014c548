"""Many callers each holding an unfinished request head had no bound in total: each partial head costs berth about its
own size, so max-callers × the 64 KiB head limit (gigabytes under a container's RLIMIT_NOFILE). `head-memory` bounds
the bytes a worker holds in incomplete heads: past it, the caller holding the most (the oldest among equals) is
answered 431 `head-memory` and closed; callers mid-exchange and heads that came whole are never its victims."""
import socket
import time

from berthkit import stats
from hostile_wire import connect, header_of, read_to_end, status_of

CALLERS = 40
LINE = b"X-Pad: " + b"a" * 1016 + b"\r\n"  # 1 KiB a line, 40 lines: 40 KiB of head each, never finished


def partial_head(o):
    return f"GET http://{o.hostport}/h HTTP/1.1\r\nHost: {o.hostport}\r\n".encode() + LINE * 40


def answer_or_none(c, wait):
    """(status, Berth-Error) of what berth sent on `c` within `wait` seconds, or None when it sent nothing."""
    c.settimeout(wait)
    try:
        first = c.recv(65536)
    except socket.timeout:
        return None
    raw, _ = read_to_end(c, timeout=3)
    raw = first + raw
    return status_of(raw), header_of(raw, "Berth-Error")


def served(b, o):
    c = connect(b.proxy)
    c.sendall(f"GET http://{o.hostport}/ok HTTP/1.1\r\nHost: {o.hostport}\r\nConnection: close\r\n\r\n".encode())
    raw, _ = read_to_end(c, timeout=5)
    c.close()
    return status_of(raw)


def ok_origin(conn):
    conn.read_request()
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")


def test_partial_heads_past_the_budget_answer_the_oldest_biggest(berth, raw_origin):
    b = berth("--workers", "1", "--head-memory", "1MiB", "--header-timeout", "30s")
    o = raw_origin(ok_origin)
    head = partial_head(o)
    callers = []
    try:
        for _ in range(CALLERS):
            c = connect(b.proxy)
            c.sendall(head)
            callers.append(c)
            time.sleep(0.02)  # arrival order is the age order berth sees
        time.sleep(0.5)
        got = [answer_or_none(c, 0.2) for c in callers]
        answered = [i for i, g in enumerate(got) if g is not None]
        # 1 MiB holds 25 of these 41 KiB heads: the rest past it were answered, the oldest first.
        assert 12 <= len(answered) <= 18, got
        assert all(got[i] == (431, "head-memory") for i in answered), got
        assert answered == list(range(len(answered))), answered
        assert served(b, o) == 200
        assert stats(b)["totals"]["errors"].get("head-memory") == len(answered)
        # The callers still holding heads are served when they finish them.
        last = callers[-1]
        last.sendall(b"Connection: close\r\n\r\n")
        raw, _ = read_to_end(last, timeout=5)
        assert status_of(raw) == 200, raw[:200]
    finally:
        for c in callers:
            c.close()


def test_a_caller_mid_upload_is_never_the_victim(berth, raw_origin):
    """A caller whose head was read and whose body is under way holds no head bytes: pressure from partial heads
    answers them, not the upload."""
    def slow_reader(conn):
        conn.read_request()
        time.sleep(3)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")

    b = berth("--workers", "1", "--head-memory", "256KiB", "--header-timeout", "30s", "--socket-timeout", "30s")
    o = raw_origin(slow_reader)
    up = connect(b.proxy)
    up.sendall(f"POST http://{o.hostport}/u HTTP/1.1\r\nHost: {o.hostport}\r\nContent-Length: 200000\r\n".encode()
               + LINE * 60 + b"\r\n" + b"b" * 1000)
    time.sleep(0.3)
    head = partial_head(o)
    callers = []
    try:
        for _ in range(10):
            c = connect(b.proxy)
            c.sendall(head)
            callers.append(c)
            time.sleep(0.02)
        time.sleep(0.5)
        got = [answer_or_none(c, 0.2) for c in callers]
        assert any(g == (431, "head-memory") for g in got), got
        assert answer_or_none(up, 0.2) is None
    finally:
        for c in callers:
            c.close()
        up.close()
