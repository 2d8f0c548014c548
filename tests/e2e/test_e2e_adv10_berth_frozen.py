"""berth itself frozen (adv10): a sidecar frozen with the function beside it (a pod-level cgroup freeze, a Lambda-like
sandbox, a VM paused), or stopped (SIGSTOP). While it is frozen its timers run on, and what it waits for may arrive:
an answer, a connect's completion. At the thaw the kernel hands both over at once; the answer that arrived must be
relayed, not cut by the timer that expired meanwhile (the upstream was not silent: berth was)."""
import os
import signal
import threading
import time

import pytest

from berthkit import keepalive_loop, upstream_stats, wait_upstream
from berthkit.nftables import NftablesUnavailable, Vanish
from e2e_helpers import send, send_in_flight


class _Pause:
    """Stops berth and lets it go again: its own cgroup v2 frozen and thawed, or SIGSTOP and SIGCONT."""

    def __init__(self, how, b, request):
        self.how, self.pid = how, b.proc.pid
        if how == "cgroup":
            self.cg = request.getfixturevalue("cgroup2").make("berth")
            self.cg.add(self.pid)

    def stop(self):
        if self.how == "cgroup":
            self.cg.freeze()
        else:
            os.kill(self.pid, signal.SIGSTOP)

    def go(self):
        if self.how == "cgroup":
            self.cg.thaw()
        else:
            os.kill(self.pid, signal.SIGCONT)


def _origin(raw_origin):
    def respond(conn, msg):
        if msg.target.startswith("/slow"):
            time.sleep(0.3)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nanswer")
    return raw_origin(keepalive_loop(respond))


@pytest.mark.parametrize("how", ["cgroup", "sigstop"])
def test_an_answer_that_arrived_while_berth_was_frozen_is_relayed(berth, raw_origin, request, how):
    """The origin answers 0.3 s into the request; berth is frozen from 0.1 s to 2.1 s, past its 1 s socket timeout.
    Before: 504 read-timeout at the thaw, every time, with the whole answer waiting in berth's socket."""
    b = berth("--socket-timeout", "1s", "--workers", "1")
    o = _origin(raw_origin)
    assert send(b.proxy, o.hostport).status == 200
    pause = _Pause(how, b, request)
    for _ in range(3):
        result = send_in_flight(b, o.hostport, path="/slow")
        time.sleep(0.1)
        pause.stop()
        time.sleep(2.0)
        pause.go()
        r = result(15)
        assert (r.status, r.body) == (200, b"answer"), r
    assert upstream_stats(b, o.hostport)["failures"]["read-timeout"] == 0


@pytest.mark.parametrize("how", ["cgroup", "sigstop"])
def test_a_connect_that_completed_while_berth_was_frozen_is_used(berth, raw_origin, request, how):
    """The origin's SYNs are dropped until berth is frozen (its connect in progress); the client kernel's SYN
    retransmission completes the connect during the freeze, which lasts past the 2 s connect timeout. Before: 504
    connect-timeout at the thaw, the connection already established."""
    try:
        faults = Vanish()
    except NftablesUnavailable as e:
        pytest.skip(str(e))
    try:
        b = berth("--connect-timeout", "2s", "--acquire-timeout", "2s", "--socket-timeout", "5s", "--workers", "1")
        o = _origin(raw_origin)
        pause = _Pause(how, b, request)
        faults.lose(o.port, how="syn")
        out = {}
        t = threading.Thread(target=lambda: out.setdefault("r", send(b.proxy, o.hostport, path="/fresh")))
        t.start()
        wait_upstream(b, o.hostport, lambda s: s["connecting"] == 1, what="the connect under way")
        pause.stop()
        faults.close()  # the SYN sent again about 1 s after the first now gets its answer
        time.sleep(3.0)
        pause.go()
        t.join(15)
        assert (out["r"].status, out["r"].body) == (200, b"answer"), out["r"]
    finally:
        faults.close()


@pytest.mark.parametrize("how", ["cgroup", "sigstop"])
def test_a_request_queued_for_a_connection_freed_while_berth_was_frozen_gets_it(berth, raw_origin, request, how):
    """`--max-per-route 1`: one request out to the origin (answered 0.3 s in), a second queued behind it with a 1 s
    acquire timeout; berth frozen from 0.1 s to 2.1 s. The first answer, in berth's socket at the thaw, frees the
    connection the second waits for. Before (with item 197's fix): 503 pool-timeout for the second, its timer run
    before the loop had polled the first's socket."""
    b = berth("--max-per-route", "1", "--acquire-timeout", "1s", "--socket-timeout", "5s", "--workers", "1")
    o = _origin(raw_origin)
    assert send(b.proxy, o.hostport).status == 200
    pause = _Pause(how, b, request)
    first = send_in_flight(b, o.hostport, path="/slow")
    second = send_in_flight(b, o.hostport, state="pending", path="/queued")
    time.sleep(0.1)
    pause.stop()
    time.sleep(2.0)
    pause.go()
    answers = [first(15), second(15)]
    assert [(r.status, r.body) for r in answers] == [(200, b"answer")] * 2, answers
