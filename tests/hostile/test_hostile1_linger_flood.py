"""hostile1 item 5: callers that get berth's own error answer linger (≤64 KiB, ≤2 s) so the answer is not destroyed
by a reset. A flood of such bad requests, each caller then silent and never closing, must not hold every
`max-callers` slot: as nginx reuses its lingering and keep-alive connections when it runs out, a lingering session
(its answer already sent) is the first to go when a new caller arrives at the limit."""
import time

from berthkit import keepalive_loop
from hostile_wire import connect, get_answer_head, header_of, read_answer_head, status_of

BAD = b"GET http://127.0.0.1:1/ HTTP/1.1\r\nHost: 127.0.0.1:1\r\nX-Bad: \x00\r\n\r\n" + b"unread" * 100


def test_lingering_callers_give_way_to_a_new_caller_at_the_limit(berth, raw_origin):
    o = raw_origin(keepalive_loop(lambda conn, msg: conn.respond(200, b"fine")))
    b = berth("--max-callers", "4", "--caller-idle-timeout", "30s")
    bad = []
    try:
        for _ in range(4):
            s = connect(b.proxy)
            s.sendall(BAD)
            head = read_answer_head(s)
            assert status_of(head) == 400, head
            bad.append(s)  # silent, never closing: its session lingers (up to 2 s)
        t0 = time.monotonic()
        good = connect(b.proxy)
        head = get_answer_head(good, o)
        waited = time.monotonic() - t0
        good.close()
        assert status_of(head) == 200, (head, waited)
        assert header_of(head + b"\r\n\r\n", "Berth-Error") is None, head
        # The caller that gave way still has its whole 400 (it was read above) and then a close.
        bad[0].settimeout(5)
        assert bad[0].recv(65536) == b""
    finally:
        for s in bad:
            s.close()


def test_a_caller_at_the_limit_is_still_refused_when_no_session_lingers(berth, raw_origin):
    """The limit still holds for callers that are busy: four keep-alive callers each mid-way through their next head
    (idle ones would give way, test_reclaim_idle_callers.py), a fifth gets 503."""
    o = raw_origin(keepalive_loop(lambda conn, msg: conn.respond(200, b"fine")))
    b = berth("--max-callers", "4", "--caller-idle-timeout", "30s")
    held = []
    try:
        for _ in range(4):
            s = connect(b.proxy)
            assert status_of(get_answer_head(s, o)) == 200
            s.sendall(f"GET http://{o.hostport}/next HTTP/1.1\r\n".encode())
            held.append(s)
        time.sleep(0.3)  # the partial heads are read before the fifth caller arrives
        extra = connect(b.proxy)
        head = get_answer_head(extra, o)
        extra.close()
        assert status_of(head) == 503 and header_of(head + b"\r\n\r\n", "Berth-Error") == "too-many-callers", head
    finally:
        for s in held:
            s.close()
