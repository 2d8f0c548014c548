"""linger2: an upload that goes on after an early answer is read to its end, within bounds, so its answer survives.

After an early answer (an origin's 413 at the head) berth closes the caller's connection once it has read and
dropped the rest of the body (item 95): a close over unread bytes is a reset, and a client that writes its whole
body before it reads (Apache HttpClient) then fails its next write and never reads the answer. The linger was at
most 2 s, so an upload longer than that lost its answer. It now lasts while the body comes, 5 s at most between
reads and 30 s in all (nginx's lingering_timeout and lingering_time), each at most the caller idle timeout; a
lingering session still gives way to a new caller at max-callers."""
import socket
import threading
import time

from berthkit import stats
from hostile_wire import connect, read_to_end, status_of

CHUNK = 64 << 10


def _early_413(conn):
    msg = conn.read_request_head()
    if msg is not None:
        conn.sendall(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 9\r\nConnection: close\r\n\r\ntoo large")


def _upload_head(hp, length):
    return f"POST http://{hp}/up HTTP/1.1\r\nHost: {hp}\r\nContent-Length: {length}\r\n\r\n".encode()


def test_a_client_uploading_for_4s_before_it_reads_gets_the_early_413(berth, raw_origin):
    """The client writes its whole body (a steady 4 s) before it reads, as HttpClient does: every write succeeds,
    and the 413 is there to read, then berth's FIN."""
    o = raw_origin(_early_413)
    b = berth()
    chunks = 160  # 10 MiB, 64 KiB each 25 ms: about 4 s
    s = connect(b.proxy, timeout=10)
    try:
        s.sendall(_upload_head(o.hostport, chunks * CHUNK))
        start = time.monotonic()
        for i in range(chunks):
            s.sendall(b"u" * CHUNK)  # raises (a reset) if berth closed over the body
            time.sleep(max(0.0, start + (i + 1) * 0.025 - time.monotonic()))
        took = time.monotonic() - start
        data, how = read_to_end(s, timeout=10)
    finally:
        s.close()
    assert took > 3.5, f"the upload took {took:.1f} s: not past the old 2 s linger"
    assert status_of(data) == 413 and data.endswith(b"too large") and how == "fin", (how, data[:200])


def _linger_ends(b, s, drip_every=None, limit=20):
    """Seconds until berth holds no caller (its linger over: the caller saw a FIN at its start, when berth shut its
    sending side, so only berth can tell), a byte sent each `drip_every` s meanwhile; None if still there at `limit`."""
    start = last = time.monotonic()
    while time.monotonic() - start < limit:
        if stats(b)["totals"]["callers"] == 0:
            return time.monotonic() - start
        if drip_every is not None and time.monotonic() - last >= drip_every:
            last = time.monotonic()
            try:
                s.sendall(b"d")
            except OSError:
                pass
        time.sleep(0.05)
    return None


def test_a_caller_dripping_a_byte_a_gap_is_cut_at_the_lingers_end(berth, raw_origin):
    """A byte a second keeps every gap short: only the total ends it (here the idle timeout's 6 s, below 30 s)."""
    o = raw_origin(_early_413)
    b = berth("--caller-idle-timeout", "6s")
    s = connect(b.proxy, timeout=5)
    try:
        s.sendall(_upload_head(o.hostport, 1 << 30))
        s.settimeout(5)
        head = s.recv(65536)
        assert status_of(head) == 413, head[:200]
        ended = _linger_ends(b, s, drip_every=1.0)
    finally:
        s.close()
    assert ended is not None and 4.5 < ended < 12, ended


def test_a_caller_that_stops_sending_is_cut_after_one_gap(berth, raw_origin):
    """A body that stops coming: the linger ends a gap (5 s) after its last byte, not at the total (20 s here)."""
    o = raw_origin(_early_413)
    b = berth("--caller-idle-timeout", "20s")
    s = connect(b.proxy, timeout=5)
    try:
        s.sendall(_upload_head(o.hostport, 1 << 30) + b"x" * CHUNK)
        s.settimeout(5)
        head = s.recv(65536)
        assert status_of(head) == 413, head[:200]
        time.sleep(2)
        s.sendall(b"y" * CHUNK)
        ended = _linger_ends(b, s)
    finally:
        s.close()
    assert ended is not None and 3.5 < ended < 9, ended


def test_lingering_uploads_give_way_to_new_callers_at_max_callers(berth, raw_origin):
    """Four callers at --max-callers 4 each linger over an endless upload behind its 413: a fifth is still served
    (a lingering session is a caller like any other, and the oldest gives way), not refused 503."""
    def answer(conn):
        msg = conn.read_request_head()
        if msg is None:
            return
        if msg.target.endswith("/up"):
            return _early_413_after(conn)
        conn.respond(200, b"ok")

    def _early_413_after(conn):
        conn.sendall(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 9\r\nConnection: close\r\n\r\ntoo large")

    o = raw_origin(answer)
    b = berth("--max-callers", "4", "--workers", "1")
    uploaders = []
    try:
        for _ in range(4):
            s = connect(b.proxy, timeout=5)
            s.sendall(_upload_head(o.hostport, 1 << 30) + b"x" * CHUNK)
            s.settimeout(5)
            assert status_of(s.recv(65536)) == 413
            uploaders.append(s)
        for s in uploaders:  # still lingering: more of the body is read and dropped
            s.sendall(b"y" * CHUNK)
        c = connect(b.proxy, timeout=5)
        try:
            c.sendall(f"GET http://{o.hostport}/ok HTTP/1.1\r\nHost: {o.hostport}\r\nConnection: close\r\n\r\n".encode())
            data, _ = read_to_end(c, timeout=5)
        finally:
            c.close()
    finally:
        for s in uploaders:
            s.close()
    assert status_of(data) == 200 and data.endswith(b"ok"), data[:300]


def test_lingers_guarding_an_answer_in_flight_give_way_after_2s_at_max_callers(berth, raw_origin):
    """Callers that neither read their answer (64 KiB, still in berth's kernel) nor stop sending hold their sessions
    against a new caller at the limit (review9) only for the 2 s every linger had before: a longer linger over a
    body must not let such callers keep every slot for 30 s."""
    big = 64 << 10

    def answer(conn):
        msg = conn.read_request_head()
        if msg is None:
            return
        if msg.target.endswith("/up"):
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % big + b"b" * big)
        else:
            conn.respond(200, b"ok")

    o = raw_origin(answer)
    b = berth("--max-callers", "3", "--workers", "1")
    stop = threading.Event()

    def sends_never_reads():
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(5)
        s.connect(b.proxy)
        s.sendall(_upload_head(o.hostport, 1 << 40))
        while not stop.is_set():
            try:
                s.sendall(b"u" * 4096)
            except OSError:
                break
            time.sleep(0.05)
        s.close()

    callers = [threading.Thread(target=sends_never_reads, daemon=True) for _ in range(3)]
    for t in callers:
        t.start()
    try:
        time.sleep(0.5)
        start = time.monotonic()
        served = None
        while time.monotonic() - start < 15:
            c = connect(b.proxy, timeout=5)
            try:
                c.sendall(f"GET http://{o.hostport}/ok HTTP/1.1\r\nHost: {o.hostport}\r\nConnection: close\r\n\r\n"
                          .encode())
                data, _ = read_to_end(c, timeout=5)
            finally:
                c.close()
            if status_of(data) == 200:
                served = time.monotonic() - start
                break
            time.sleep(0.25)
    finally:
        stop.set()
        for t in callers:
            t.join(10)
    assert served is not None and served < 8, served
