"""Silent or idle callers must not hold every `max-callers` slot. A connection that never sends a byte, or a
keep-alive caller between requests, was closed only by the caller idle timeout (60 s by default): with
`--max-callers 2`, two silent connections kept a third caller at 503 too-many-callers for the whole timeout (a
zero-byte slowloris). As nginx reuses its "reusable" connections when it runs out, the oldest idle caller is now
closed (a FIN) at the limit and the new caller is served; a caller mid-request is never closed for this."""
import time

from berthkit import keepalive_loop
from hostile_wire import connect, get_answer_head, header_of, status_of


def _closed_with_fin(s):
    s.settimeout(5)
    return s.recv(65536) == b""


def test_silent_callers_give_way_to_a_new_caller_at_the_limit(berth, raw_origin):
    o = raw_origin(keepalive_loop(lambda conn, msg: conn.respond(200, b"fine")))
    b = berth("--max-callers", "2", "--caller-idle-timeout", "30s")
    silent = [connect(b.proxy), connect(b.proxy)]
    try:
        time.sleep(0.3)  # both accepted and counted before the third arrives
        good = connect(b.proxy)
        head = get_answer_head(good, o)
        good.close()
        assert status_of(head) == 200, head
        assert header_of(head + b"\r\n\r\n", "Berth-Error") is None, head
        # The oldest silent connection gave way with a FIN.
        assert _closed_with_fin(silent[0])
    finally:
        for s in silent:
            s.close()


def test_idle_keepalive_callers_give_way_to_a_new_caller_at_the_limit(berth, raw_origin):
    o = raw_origin(keepalive_loop(lambda conn, msg: conn.respond(200, b"fine")))
    b = berth("--max-callers", "2", "--caller-idle-timeout", "30s")
    idle = []
    try:
        for _ in range(2):
            s = connect(b.proxy)
            assert status_of(get_answer_head(s, o)) == 200
            idle.append(s)
        good = connect(b.proxy)
        head = get_answer_head(good, o)
        assert status_of(head) == 200, head
        # The oldest idle caller was closed between requests (which HTTP allows); the newer one still works.
        assert _closed_with_fin(idle[0])
        assert status_of(get_answer_head(idle[1], o)) == 200
        good.close()
    finally:
        for s in idle:
            s.close()


def test_a_caller_mid_request_is_never_closed_for_a_new_caller(berth, raw_origin):
    """Two callers each with a partial head hold both slots: the third is refused, and both finish their request;
    once they are idle between requests, a fourth caller takes the oldest one's slot."""
    o = raw_origin(keepalive_loop(lambda conn, msg: conn.respond(200, b"fine")))
    b = berth("--max-callers", "2", "--caller-idle-timeout", "30s")
    busy = []
    try:
        for _ in range(2):
            s = connect(b.proxy)
            s.sendall(f"GET http://{o.hostport}/ok HTTP/1.1\r\n".encode())
            busy.append(s)
        time.sleep(0.3)
        extra = connect(b.proxy)
        head = get_answer_head(extra, o)
        extra.close()
        assert status_of(head) == 503, head
        assert header_of(head + b"\r\n\r\n", "Berth-Error") == "too-many-callers", head
        for s in busy:
            s.sendall(f"Host: {o.hostport}\r\n\r\n".encode())
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = s.recv(65536)
                assert chunk, data
                data += chunk
            assert status_of(data) == 200, data
        # Both are idle now: the look for an idle caller that found none is made again, and the next caller is served.
        late = connect(b.proxy)
        head = get_answer_head(late, o)
        late.close()
        assert status_of(head) == 200, head
        assert _closed_with_fin(busy[0])
    finally:
        for s in busy:
            s.close()
