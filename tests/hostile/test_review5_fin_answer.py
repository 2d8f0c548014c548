"""review5 (differential old-vs-new): berth's own error answer must reach a caller whose unread bytes are still in
berth's socket. Before: berth wrote its 400 and closed over those bytes, the kernel sent a reset, and the caller could
lose the 400. After (nginx's lingering close): the answer goes out, the sending side is shut, and the caller's input
is read and dropped for a bounded time and byte budget before the close, so the 400 arrives whole, ended by a FIN."""
import threading

from hostile_wire import assert_whole_answer_then_fin, connect, is_whole_answer, read_to_end, status_of


def test_a_400_for_a_bad_head_survives_the_callers_unread_bytes(berth):
    b = berth()
    head = b"GET http://127.0.0.1:1/ HTTP/1.1\r\nHost: 127.0.0.1:1\r\nX-Pad: " + b"a" * 4096 + b"\x00" + b"b" * 100
    tail = b"c" * 16384 + b"\r\n\r\n"
    for run in range(20):
        s = connect(b.proxy)
        try:
            s.sendall(head + tail)
            data, how = read_to_end(s, timeout=10)
        finally:
            s.close()
        assert_whole_answer_then_fin(data, how, 400, "bad-request", note=(run,))


def test_a_caller_that_keeps_sending_cannot_hold_the_connection_open(berth):
    """The linger has a budget: a caller that streams on after its 400 is still closed, not read forever."""
    b = berth()
    s = connect(b.proxy)
    stop = threading.Event()

    def flood():
        try:
            while not stop.is_set():
                s.send(b"x" * 65536)
        except OSError:
            pass

    try:
        s.sendall(b"GET http://127.0.0.1:1/ HTTP/1.1\r\nHost: \x00\r\n\r\n")
        t = threading.Thread(target=flood, daemon=True)
        t.start()
        data, how = read_to_end(s, timeout=20)
        assert how in ("fin", "reset"), (how, data[:300])
    finally:
        stop.set()
        s.close()


def test_sigterm_while_a_caller_lingers_exits_within_the_linger_bound(berth):
    """A lingering session (its 400 sent, the caller silent and never closing) is no accepted work: SIGTERM still
    ends berth, within the drain plus the linger's 2 s at most, and the caller has its whole 400."""
    import signal
    b = berth("--drain-timeout", "1s")
    s = connect(b.proxy)
    try:
        s.sendall(b"GET http://127.0.0.1:1/ HTTP/1.1\r\nHost: 127.0.0.1:1\r\nX-Bad: \x00\r\n\r\n" + b"unread" * 100)
        s.settimeout(5)
        data = b""
        while b"\r\n\r\n" not in data or not is_whole_answer(data):
            chunk = s.recv(4096)
            assert chunk, data
            data += chunk
        assert status_of(data) == 400, data[:300]
        b.proc.send_signal(signal.SIGTERM)
        # A hang guard, not a timing goal: drain (1 s) plus the linger (2 s at most) fit well inside it.
        assert b.proc.wait(timeout=15) == 0, b.stderr_text()
    finally:
        s.close()
