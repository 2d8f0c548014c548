"""Freeze cycles: upstream processes frozen with SIGSTOP / thawed with SIGCONT, as `docker pause` does."""
import threading
import time

import pytest

from e2e_helpers import FIGURES, get_stats, pause, resume, scale, send, upstream_stats, wait_upstream

CYCLES = scale(20, 200)
REAL_KA_CYCLES = scale(1, 10)


def _burst(b, up, n, tag, failures):
    """n concurrent POSTs (so several upstream connections get pooled); failures appended as (tag, Result)."""
    results = [None] * n

    def one(i):
        payload = f"{tag}-{i}".encode() * 20
        r = send(b.proxy, up.hostport, "POST", f"/{tag}/{i}", body=payload)
        results[i] = (r, payload)

    ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(15)
    for r, payload in results:
        if r.status != 200 or r.body != payload:
            failures.append((tag, r))


def _cycles(b, up, cycles, frozen_for, failures):
    for i in range(cycles):
        _burst(b, up, 3, f"before{i}", failures)
        pause(b, up.hostport)
        up.freeze()
        time.sleep(frozen_for)
        up.thaw()
        resume(b, up.hostport)
        _burst(b, up, 3, f"after{i}", failures)


def test_freeze_cycles_with_pause_node_and_python(berth, upstreams):
    """/pause, SIGSTOP, wait > keep-alive timeout, SIGCONT, /resume: POSTs around every freeze never fail.
    Node (keepAliveTimeout 1000 ms) and Python (1 s) upstreams are cycled at the same time."""
    b = berth("--socket-timeout", "2s")
    node, py = upstreams("node", 1000), upstreams("python", 1.0)
    failures = {node.name: [], py.name: []}
    ts = [threading.Thread(target=_cycles, args=(b, u, CYCLES, 1.3, failures[u.name])) for u in (node, py)]
    t0 = time.monotonic()
    for t in ts:
        t.start()
    for t in ts:
        t.join(CYCLES * 10 + 30)
    assert not any(t.is_alive() for t in ts), "freeze cycles did not finish in time"
    FIGURES.put("freeze_cycles_with_pause", {"cycles_per_upstream": CYCLES, "upstreams": [node.name, py.name],
                                             "requests": CYCLES * 6 * 2,
                                             "failed": sum(len(v) for v in failures.values()),
                                             "seconds": round(time.monotonic() - t0, 1)})
    assert failures == {node.name: [], py.name: []}
    for u in (node, py):
        st = wait_upstream(b, u.hostport, lambda s: s["busy"] == 0 and s["pending"] == 0)
        assert st["epoch"] == CYCLES + 1


def test_freeze_cycles_real_node_keepalive_5s(berth, upstreams):
    """The same with Node's default keepAliveTimeout (5000 ms): frozen 5.5 s per cycle."""
    b = berth("--socket-timeout", "2s")
    node = upstreams("node", 5000)
    failures = []
    _cycles(b, node, REAL_KA_CYCLES, 5.5, failures)
    FIGURES.put("freeze_cycles_real_5s", {"cycles": REAL_KA_CYCLES, "requests": REAL_KA_CYCLES * 6,
                                          "failed": len(failures)})
    assert failures == []


@pytest.mark.parametrize("kind,ka", [("node", 1000), ("python", 1.0)])
def test_frozen_without_pause_read_timeout_then_no_stale_failures(berth, upstreams, kind, ka):
    """No /pause: a request to the frozen upstream gets 504 read-timeout after the socket timeout (1 s) and never
    hangs; once the thawed server has closed its idle connections, no request fails on one of them."""
    b = berth("--socket-timeout", "1s")
    up = upstreams(kind, ka)
    rounds = scale(3, 20)
    immediate, late, frozen = [], [], []
    for rnd in range(rounds):
        warm = []
        _burst(b, up, 3, f"warm{rnd}", warm)  # pool a few connections
        assert warm == []
        up.freeze()
        r = send(b.proxy, up.hostport, "POST", "/while-frozen", body=b"x" * 100, timeout=10, expect="read-timeout")
        frozen.append(r)
        time.sleep(max(0.0, 1.6 - r.elapsed))  # frozen for longer than the keep-alive timeout
        up.thaw()
        # right after the thaw: the server's keep-alive timers fire now; berth may not have seen the FINs yet
        r0 = send(b.proxy, up.hostport, "POST", "/right-after-thaw", body=b"y" * 100, timeout=10)
        immediate.append(r0)
        time.sleep(0.3)  # the FINs have arrived: berth can detect every stale connection
        for i in range(5):
            r1 = send(b.proxy, up.hostport, "POST", f"/after-thaw/{i}", body=b"z" * 100, timeout=10)
            if r1.status != 200 or r1.body != b"z" * 100:
                late.append(r1)
    st = upstream_stats(b, up.hostport)
    FIGURES.put(f"frozen_without_pause_{kind}", {
        "rounds": rounds, "frozen_request_results": sorted({f"{r.status} {r.berth_error}" for r in frozen}),
        "frozen_request_elapsed_max_s": round(max(r.elapsed for r in frozen), 3),
        "immediate_after_thaw_failures": [repr(r) for r in immediate if r.status != 200],
        "late_failures": len(late), "retries": st["retries"], "closed": st["connections"]["closed"]})
    for r in frozen:
        assert r.status == 504 and r.berth_error == "read-timeout", r
        assert 0.9 <= r.elapsed <= 1.5, f"read-timeout after {r.elapsed:.3f}s with a 1s socket timeout"
    assert late == [], f"requests failed on stale connections berth could have detected: {late}"
    assert [r for r in immediate if r.status != 200] == [], "request right after the thaw failed"
