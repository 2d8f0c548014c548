"""linger: a proxied answer that ends its connection must reach a caller that sends on and reads late.

A close with bytes unread in berth's socket, or with bytes arriving after it, makes Linux reset the connection, and
the reset throws away what of the answer is still in berth's send queue: a large answer the caller has not read yet
arrives cut, then the reset. Each test has the caller write its request, then more bytes (pipelined requests, or the
rest of an upload the origin answered early), and read only 0.3 s later, by which time berth has handed the whole
2 MiB answer to its kernel. Before the fix: about 128 KiB, then a reset, every run; after: the whole answer, then a
FIN, as berth reads and drops the caller's bytes while its answer is in flight (nginx's lingering close)."""
import threading
import time

from hostile_wire import connect, header_of, read_response, read_to_end, status_of

BIG = 2 << 20
RUNS = 4


def _serve(early=False, until_close=False):
    """An origin handler: a 2 MiB answer per request (keep-alive), or, `early`, one as soon as the head is read (the
    body never read), or, `until_close`, one ended by the origin's close."""
    def handler(conn):
        while not conn.origin.stopped.is_set():
            msg = conn.read_request_head() if early else conn.read_request()
            if msg is None:
                return
            if until_close:
                conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + b"o" * BIG)
                return
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % BIG + b"o" * BIG)
            if early:
                time.sleep(1)
                return
    return handler


def _get(hp, version="HTTP/1.1", extra=""):
    return f"GET http://{hp}/ {version}\r\nHost: {hp}\r\n{extra}\r\n".encode()


def _late_reader(addr, first, then):
    """Sends `first`, then (50 ms on, from another thread, as much as berth takes) `then`; reads from 0.3 s on."""
    s = connect(addr, timeout=10)
    try:
        s.sendall(first)

        def more():
            time.sleep(0.05)
            try:
                s.sendall(then)
            except OSError:
                pass  # berth closed: the assertion on the answer says whether that was early

        t = threading.Thread(target=more, daemon=True)
        t.start()
        time.sleep(0.3)
        data, how = read_to_end(s, timeout=15)
        t.join(5)
        return data, how
    finally:
        s.close()


def _assert_whole(data, how, run):
    assert status_of(data) == 200, (run, how, data[:200])
    body = data.partition(b"\r\n\r\n")[2]
    assert len(body) == BIG and how == "fin", (run, how, len(body))


def test_a_connection_close_request_with_requests_behind_gets_its_whole_answer(berth, raw_origin):
    o = raw_origin(_serve())
    b = berth()
    for run in range(RUNS):
        data, how = _late_reader(b.proxy, _get(o.hostport, extra="Connection: close\r\n"), _get(o.hostport) * 20)
        assert header_of(data, "Connection") == "close", data[:200]
        _assert_whole(data, how, run)


def test_an_http10_caller_with_bytes_behind_gets_its_whole_answer(berth, raw_origin):
    o = raw_origin(_serve())
    b = berth()
    for run in range(RUNS):
        data, how = _late_reader(b.proxy, _get(o.hostport, "HTTP/1.0"), _get(o.hostport) * 20)
        _assert_whole(data, how, run)


def test_an_http10_caller_gets_a_close_delimited_answer_whole(berth, raw_origin):
    o = raw_origin(_serve(until_close=True))
    b = berth()
    for run in range(RUNS):
        data, how = _late_reader(b.proxy, _get(o.hostport, "HTTP/1.0"), _get(o.hostport) * 20)
        assert status_of(data) == 200, (run, how, data[:200])
        assert len(data.partition(b"\r\n\r\n")[2]) == BIG and how == "fin", (run, how, len(data))


def test_an_early_answer_to_an_upload_survives_the_rest_of_the_upload(berth, raw_origin):
    """The origin answers before it reads the body; berth relays the answer with `Connection: close` and does not
    read the upload's rest as requests. The caller sends 1 MiB more, well past the linger's 64 KiB: berth reads on
    while its answer is in flight (the linger timer still bounds it)."""
    o = raw_origin(_serve(early=True))
    b = berth()
    head = (f"POST http://{o.hostport}/up HTTP/1.1\r\nHost: {o.hostport}\r\nContent-Length: {64 << 20}\r\n\r\n"
            .encode() + b"u" * 65536)
    for run in range(RUNS):
        data, how = _late_reader(b.proxy, head, b"u" * (1 << 20))
        assert header_of(data, "Connection") == "close", data[:200]
        _assert_whole(data, how, run)


def test_a_caller_that_sends_forever_and_never_reads_is_still_closed(berth, raw_origin):
    """The linger past 64 KiB lasts only while the answer is in flight or the body comes, and within the linger's
    end (over a body 30 s or the idle timeout, 4 s here, since linger2): a caller that streams its upload on and
    never reads is closed all the same."""
    o = raw_origin(_serve(early=True))
    b = berth("--caller-idle-timeout", "4s")
    s = connect(b.proxy, timeout=10)
    try:
        s.sendall(f"POST http://{o.hostport}/up HTTP/1.1\r\nHost: {o.hostport}\r\nContent-Length: {1 << 40}\r\n\r\n"
                  .encode())
        block = b"u" * 65536
        # A hang guard, not a timing goal: the linger's 4 s fit well inside it.
        deadline = time.monotonic() + 15
        ended = False
        while time.monotonic() < deadline:
            try:
                s.sendall(block)
            except OSError:
                ended = True
                break
        assert ended, "berth still read the caller after 15 s"
    finally:
        s.close()


def test_a_caller_mid_pipeline_at_a_drain_gets_its_whole_answer(berth, raw_origin):
    """SIGTERM while a keep-alive caller's answer is out and its next requests come: berth answers what it started,
    then closes; the caller, reading late, still gets that answer whole and a FIN, and berth exits cleanly."""
    import signal
    o = raw_origin(_serve())
    for run in range(2):
        b = berth("--drain-timeout", "5s")
        s = connect(b.proxy, timeout=10)
        try:
            s.sendall(_get(o.hostport))
            time.sleep(0.05)
            b.proc.send_signal(signal.SIGTERM)
            time.sleep(0.05)
            try:
                s.sendall(_get(o.hostport) * 20)
            except OSError:
                pass
            time.sleep(0.3)
            data, how = read_to_end(s, timeout=15)
            _assert_whole(data, how, run)
            assert b.proc.wait(timeout=15) == 0, b.stderr_text()
        finally:
            s.close()


def test_callers_lingering_over_answers_in_flight_give_way_at_the_limit(berth, raw_origin):
    """Sessions that linger because their answer is in flight (their callers do not read) hold no slot against a
    new caller at `max-callers`: the oldest gives way (its answer keeps going out, then a FIN), as item 25's do."""
    o = raw_origin(_serve())
    b = berth("--max-callers", "2", "--caller-idle-timeout", "30s")
    held = []
    try:
        for _ in range(2):
            s = connect(b.proxy, timeout=10)
            s.sendall(_get(o.hostport, extra="Connection: close\r\n"))
            held.append(s)
        time.sleep(0.3)  # both answers are in berth's kernel: both sessions linger
        good = connect(b.proxy, timeout=10)
        try:
            good.sendall(_get(o.hostport, extra="Connection: close\r\n"))
            data, how = read_to_end(good, timeout=15)
        finally:
            good.close()
        _assert_whole(data, how, "new caller")
        data, how = read_to_end(held[0], timeout=15)
        _assert_whole(data, how, "gave way")
    finally:
        for s in held:
            s.close()


def test_a_lingering_caller_still_uploading_keeps_its_answer_at_the_limit(berth, raw_origin):
    """At `max-callers`, a session lingering over an answer in flight while its caller still sends (the rest of an
    upload the origin answered early) does not give way: closing it would reset the answer away. The new caller gets
    503 `too-many-callers` and the lingering one its whole answer (review9: before, 126,932 of 2 MiB, then a reset)."""
    o = raw_origin(_serve(early=True))
    b = berth("--max-callers", "1", "--caller-idle-timeout", "30s")
    head = (f"POST http://{o.hostport}/up HTTP/1.1\r\nHost: {o.hostport}\r\nContent-Length: {1 << 30}\r\n\r\n"
            .encode() + b"u" * 16384)
    s = connect(b.proxy, timeout=10)
    stop = threading.Event()

    def upload():
        deadline = time.monotonic() + 10  # a bound, not a timing goal
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                s.sendall(b"u" * 16384)
            except OSError:
                return
            time.sleep(0.002)

    t = threading.Thread(target=upload, daemon=True)
    try:
        s.sendall(head)
        t.start()
        time.sleep(0.3)  # the answer is out of berth's buffer, unread: the session lingers, the upload goes on
        new = connect(b.proxy, timeout=10)
        try:
            new.sendall(_get(o.hostport, extra="Connection: close\r\n"))
            other, _ = read_to_end(new, timeout=15)
        finally:
            new.close()
        head, body = read_response(s)  # stops at the answer's last byte: the caller is still sending
    finally:
        stop.set()
        t.join(5)
        s.close()
    assert status_of(other) == 503 and header_of(other, "Berth-Error") == "too-many-callers", other[:300]
    assert status_of(head) == 200, head
    assert len(body) == BIG, len(body)
