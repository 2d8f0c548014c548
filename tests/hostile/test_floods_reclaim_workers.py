"""At --max-callers with --workers 2, a new caller accepted by a worker with no idle caller of its own is served when
the other worker has one (an idle caller there is closed to make room), and every caller closed to make room is
counted (callers_reclaimed in /stats, berth_callers_reclaimed_total in /metrics)."""
import time

from berthkit import admin, keepalive_loop, stats, wait_for
from hostile_wire import connect, get_answer_head, header_of, status_of

ROUNDS = 16  # one worker of two is the busy caller's and the new caller's in a quarter of rounds: 1 % to miss it


def test_an_idle_caller_of_the_other_worker_gives_way(berth, raw_origin):
    o = raw_origin(keepalive_loop(lambda conn, msg: conn.respond(200, b"fine")))
    b = berth("--workers", "2", "--max-callers", "2", "--caller-idle-timeout", "30s")
    refused = []
    for n in range(ROUNDS):
        busy = connect(b.proxy)
        idle = connect(b.proxy)
        try:
            busy.sendall(f"GET http://{o.hostport}/ok HTTP/1.1\r\n".encode())  # mid-request: never closed for room
            time.sleep(0.2)
            new = connect(b.proxy)
            head = get_answer_head(new, o)
            new.close()
            if status_of(head) != 200:
                refused.append((n, header_of(head + b"\r\n\r\n", "Berth-Error")))
        finally:
            busy.close()
            idle.close()
        wait_for(lambda: stats(b)["totals"]["callers"] == 0, timeout=5, what="callers back to 0")
    assert not refused, f"rounds refused although the other worker had an idle caller: {refused}"
    assert stats(b)["totals"]["callers_reclaimed"] == ROUNDS
    metrics = admin(b, "GET", "/metrics").text
    assert f"berth_callers_reclaimed_total {ROUNDS}" in metrics, [l for l in metrics.splitlines() if "reclaim" in l]


def test_a_lingering_caller_closed_for_room_is_counted(berth, raw_origin):
    b = berth("--max-callers", "1", "--caller-idle-timeout", "30s")
    bad = connect(b.proxy)
    try:
        bad.sendall(b"NOT HTTP\r\n\r\n")
        bad.settimeout(5)
        assert bad.recv(65536).startswith(b"HTTP/1.1 400")  # answered; now lingering for up to 2 s
        new = connect(b.proxy)
        new.sendall(b"GET http://127.0.0.1:9/ HTTP/1.1\r\nHost: 127.0.0.1:9\r\nConnection: close\r\n\r\n")
        new.settimeout(5)
        assert header_of(new.recv(65536), "Berth-Error") != "too-many-callers"
        new.close()
    finally:
        bad.close()
    assert stats(b)["totals"]["callers_reclaimed"] == 1
