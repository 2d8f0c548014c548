"""review13: berth's own 100 Continue must not be followed by the origin's, and an unbudgeted linger still ends.

At the socket timeout berth stands in for an origin's missing `100 Continue`; an origin that then sends its own late
100 must not make the caller read `100 Continue` twice (one answer to one expectation, as nginx and HAProxy, which
answer the expectation themselves, never relay a second). And a session lingering over the rest of an upload behind
an early answer reads with no byte budget: a caller that keeps trickling must still be cut at the linger's end (30 s
or the idle timeout since linger2; it was 2 s), not held for as long as it sends."""
import socket
import time

from hostile_wire import connect, read_to_end, status_of

BODY = 1000


def _late_continue(conn):
    """An origin that sends its own 100 Continue after 1.5 s, then reads the body and answers with its length."""
    msg = conn.read_request_head()
    if msg is None:
        return
    time.sleep(1.5)
    conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
    conn.read_body(msg)
    conn.respond(200, b"got %d" % len(msg.body or b""))


def test_the_origins_late_100_does_not_reach_the_caller_twice(berth, raw_origin):
    o = raw_origin(_late_continue)
    b = berth(profile="same-region-failover")  # socket timeout 1 s: berth's 100 comes before the origin's
    s = connect(b.proxy, timeout=15)
    try:
        s.sendall(f"POST http://{o.hostport}/up HTTP/1.1\r\nHost: {o.hostport}\r\nContent-Length: {BODY}\r\n"
                  f"Expect: 100-continue\r\nConnection: close\r\n\r\n".encode())
        s.settimeout(5)
        first = s.recv(65536)
        assert first.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), first[:200]
        s.sendall(b"u" * BODY)
        rest, how = read_to_end(s, timeout=15)
    finally:
        s.close()
    data = first + rest
    assert data.count(b" 100 Continue") == 1, data[:400]
    final = data.split(b"\r\n\r\n", 1)[1]
    assert status_of(final) == 200 and final.endswith(b"got %d" % BODY), final[:300]


def _early_413(conn):
    msg = conn.read_request_head()
    if msg is not None:
        conn.sendall(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 9\r\nConnection: close\r\n\r\ntoo large")


def test_a_trickling_upload_behind_an_early_answer_is_cut_by_the_linger_timer(berth, raw_origin):
    """A linger over a body ends at 30 s or the idle timeout, whichever is sooner (linger2): 4 s here."""
    o = raw_origin(_early_413)
    b = berth("--caller-idle-timeout", "4s")
    s = connect(b.proxy, timeout=5)
    try:
        s.sendall(f"POST http://{o.hostport}/up HTTP/1.1\r\nHost: {o.hostport}\r\nContent-Length: {1 << 30}\r\n\r\n"
                  .encode())
        s.settimeout(5)
        head = s.recv(65536)
        assert status_of(head) == 413, head[:200]
        # 100 KiB a turn, past the 64 KiB budget each second: only the timer can end it.
        start = time.monotonic()
        ended = None
        while time.monotonic() - start < 12:
            try:
                s.sendall(b"t" * (100 << 10))
            except OSError as e:
                ended = time.monotonic() - start
                break
            time.sleep(0.05)
        assert ended is not None and ended < 8, ended
    finally:
        s.close()


def _answers_without_reading(conn):
    """An origin that answers 1.5 s after the head (after berth's own 100) without reading the body, then drops it."""
    msg = conn.read_request_head()
    if msg is None:
        return
    time.sleep(1.5)
    conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\nConnection: close\r\n\r\nno")
    conn.sock.shutdown(socket.SHUT_WR)
    conn.sock.settimeout(3)
    try:
        while conn.sock.recv(1 << 16):
            pass
    except OSError:
        pass


def test_a_body_sent_after_berths_100_meets_the_origins_final_answer(berth, raw_origin):
    """The caller, told to go on by berth, writes its 2 MiB body whole before reading (as HttpClient does) while the
    origin answers 403: the caller reads 100, then the 403, and no reset takes it away."""
    o = raw_origin(_answers_without_reading)
    b = berth(profile="same-region-failover")
    body = 2 << 20
    s = connect(b.proxy, timeout=15)
    try:
        s.sendall(f"POST http://{o.hostport}/up HTTP/1.1\r\nHost: {o.hostport}\r\nContent-Length: {body}\r\n"
                  f"Expect: 100-continue\r\nConnection: close\r\n\r\n".encode())
        s.settimeout(5)
        first = s.recv(65536)
        assert first.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), first[:200]
        s.settimeout(15)
        s.sendall(b"u" * body)
        rest, how = read_to_end(s, timeout=15)
    finally:
        s.close()
    data = first + rest
    assert data.count(b" 100 Continue") == 1, data[:400]
    assert b"HTTP/1.1 403 Forbidden\r\n" in data and data.endswith(b"no") and how == "fin", (how, data[:400])
