"""Descriptor headroom (issue 23 item 7): callers are capped below RLIMIT_NOFILE (max-callers), past the cap a new
caller is refused at once, and the admin API still answers when callers have taken their whole share."""
import os
import resource
import socket
import time

import pytest

from berthkit import admin, admin_json, get_req
from hostile_wire import connect, read_to_end, status_of, header_of


def _limit_descriptors(n):
    """popen_kw that starts berth with RLIMIT_NOFILE n (soft and hard)."""
    return {"preexec_fn": lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))}


def _open_idle_callers(b, count):
    """`count` connections to the proxy that send nothing; the ones berth refused are already closed."""
    callers = []
    for _ in range(count):
        try:
            callers.append(socket.create_connection(b.proxy, timeout=5))
        except OSError:
            pass
    return callers


def _open_busy_callers(b, count):
    """`count` connections to the proxy each mid-request (a partial head, well inside the header timeout), which
    berth never closes to make room: at the limit a silent or idle caller gives way to a new one, a busy one does not."""
    callers = []
    for _ in range(count):
        try:
            s = socket.create_connection(b.proxy, timeout=5)
            s.sendall(b"GET http://127.0.0.1:1/busy HTTP/1.1\r\n")
            callers.append(s)
        except OSError:
            pass
    return callers


def _request_on_a_fresh_connection(b, hostport, timeout=10):
    """(raw answer, how it ended) of one request on a new connection; 'timeout' means it hung."""
    s = connect(b.proxy, timeout=timeout)
    try:
        s.sendall(get_req(hostport, "/fresh", extra=b"Connection: close\r\n"))
    except OSError:
        pass  # refused before the request went out: what read_to_end sees says how
    try:
        return read_to_end(s, timeout=timeout)
    finally:
        s.close()


def _served_once_callers_left(b, origin):
    """With the idle callers gone, a new caller is served again."""
    deadline = time.monotonic() + 10
    while admin_json(b, "GET", "/stats")["totals"]["callers"] > 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    raw, how = _request_on_a_fresh_connection(b, origin.hostport)
    assert status_of(raw) == 200, (how, raw[:300])


def test_the_admin_answers_and_new_callers_are_refused_at_once_when_callers_hold_their_share(berth, origin):
    b = berth("--max-total", "50", "--max-per-route", "50", popen_kw=_limit_descriptors(256))
    callers = _open_busy_callers(b, 300)
    try:
        time.sleep(0.5)
        # The admin API is the orchestrator's way in: health, readiness and a mutation all answer.
        for path in ("/healthz", "/readyz"):
            status, body = admin(b, "GET", path, timeout=5)
            assert status == 200, (path, status, body)
        admin_json(b, "POST", f"/evict?upstream={origin.hostport}", timeout=5)
        raw, how = _request_on_a_fresh_connection(b, origin.hostport)
        assert how != "timeout", f"a fresh caller hung: {raw[:200]!r}"
        # Refused with berth's own answer (or, at worst, closed): never left hanging.
        if raw:
            assert status_of(raw) == 503 and header_of(raw, "Berth-Error") == "too-many-callers", raw[:300]
        stats = admin_json(b, "GET", "/stats", timeout=5)["totals"]
        assert stats["callers"] <= 256 - 50, stats["callers"]
        assert stats["errors"]["too-many-callers"] >= 300 - stats["callers"], stats["errors"]
    finally:
        for c in callers:
            c.close()
    _served_once_callers_left(b, origin)


def test_an_explicit_max_callers_refuses_the_caller_past_it_with_503(berth, origin):
    b = berth("--max-callers", "3")
    callers = _open_busy_callers(b, 3)
    try:
        time.sleep(0.3)
        raw, how = _request_on_a_fresh_connection(b, origin.hostport)
        assert status_of(raw) == 503 and header_of(raw, "Berth-Error") == "too-many-callers", (how, raw[:300])
        assert header_of(raw, "Connection") == "close"
    finally:
        for c in callers:
            c.close()
    time.sleep(0.3)
    raw, how = _request_on_a_fresh_connection(b, origin.hostport)
    assert status_of(raw) == 200, (how, raw[:300])


def test_a_descriptor_limit_with_no_room_for_callers_stops_berth_at_start(start_berth):
    # max-total 200 (the profile's) and the admin's and berth's own descriptors leave nothing of 256 for callers.
    with pytest.raises(RuntimeError) as e:
        start_berth(popen_kw=_limit_descriptors(256))
    assert "RLIMIT_NOFILE" in str(e.value) and "max-total" in str(e.value), str(e.value)


def _cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_out_of_descriptors_the_admin_still_answers_and_berth_does_not_spin(berth, origin):
    """An explicit max-callers above what the limit holds (berth warns) lets callers take every descriptor: the
    admin answers through the descriptor it keeps in reserve, and the proxy listener waits instead of spinning."""
    b = berth("--max-total", "50", "--max-per-route", "50", "--max-callers", "1000", popen_kw=_limit_descriptors(256))
    b.wait_log("descriptors may run out")
    callers = _open_idle_callers(b, 300)  # the last ones wait in the listen backlog: berth has no descriptor for them
    try:
        time.sleep(0.5)
        cpu0, t0 = _cpu_seconds(b.proc.pid), time.monotonic()
        for _ in range(3):
            for path in ("/healthz", "/readyz"):
                status, body = admin(b, "GET", path, timeout=5)
                assert status == 200, (path, status, body)
        admin_json(b, "POST", f"/evict?upstream={origin.hostport}", timeout=5)
        time.sleep(2)
        cpu = _cpu_seconds(b.proc.pid) - cpu0
        wall = time.monotonic() - t0
        assert cpu < wall / 2, f"berth used {cpu:.2f} s of CPU in {wall:.2f} s with nothing to do but wait for descriptors"
    finally:
        for c in callers:
            c.close()
    _served_once_callers_left(b, origin)
