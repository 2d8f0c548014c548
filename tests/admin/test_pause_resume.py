"""/pause and /resume against a live berth and origin: sockets, held requests, reject, hold, epochs, drain."""
import time

from berthkit import admin_json, stats, upstream_stats, wait_for
from admin_helpers import NO_POOL, SLOW_FLAGS, Background, established_to_port, proxied


def _warm_idle(berth, origin, n):
    """Leaves n idle pooled connections to origin (n concurrent requests, then they all go idle)."""
    bg = [Background(berth, origin, "/sleep/0.3") for _ in range(n)]
    for b in bg:
        assert b.response().status_code == 200
    assert wait_for(lambda: (upstream_stats(berth, origin.hostport) or NO_POOL)["idle"] == n), stats(berth)


def test_pause_takes_idle_connections_out_then_closes_their_sockets(start_berth, origin):
    berth = start_berth(*SLOW_FLAGS)
    _warm_idle(berth, origin, 3)
    assert len(established_to_port(origin.port)) == 3
    ans = admin_json(berth, "POST", f"/pause?upstream={origin.hostport}")
    # The pool no longer holds them when the answer comes; the sockets close right after it (same loop iteration).
    assert upstream_stats(berth, origin.hostport)["idle"] == 0
    assert wait_for(lambda: established_to_port(origin.port) == []), established_to_port(origin.port)
    assert ans == {"upstream": origin.hostport, "state": "paused", "mode": "hold", "epoch": 1, "closed_idle": 3, "in_flight": 0}
    u = upstream_stats(berth, origin.hostport)
    assert (u["state"], u["pause_mode"], u["open"], u["idle"]) == ("paused", "hold", 0, 0)
    assert u["connections"]["closed"]["paused"] == 3


def test_held_request_completes_after_resume(start_berth, origin):
    berth = start_berth(*SLOW_FLAGS)
    admin_json(berth, "POST", f"/pause?upstream={origin.hostport}")
    bg = Background(berth, origin, "/held")
    assert wait_for(lambda: upstream_stats(berth, origin.hostport)["pending"] == 1)
    time.sleep(0.3)
    assert bg.is_alive(), "request for a paused upstream did not wait"
    assert origin.requests == []
    ans = admin_json(berth, "POST", f"/resume?upstream={origin.hostport}")
    assert ans == {"upstream": origin.hostport, "state": "active", "epoch": 2, "released": 1, "prewarmed": 0}
    r = bg.response()
    assert r.status_code == 200 and r.text == "hello /held"
    assert bg.elapsed >= 0.3
    u = upstream_stats(berth, origin.hostport)
    assert (u["state"], u["epoch"], u["pending"]) == ("active", 2, 0)
    assert "pause_mode" not in u


def test_mode_reject_answers_503_at_once(start_berth, origin):
    berth = start_berth(*SLOW_FLAGS)
    ans = admin_json(berth, "POST", f"/pause?upstream={origin.hostport}&mode=reject")
    assert ans["mode"] == "reject"
    t0 = time.monotonic()
    r = proxied(berth, origin, "/rejected")
    assert time.monotonic() - t0 < 1.0
    assert r.status_code == 503
    assert r.headers.get("Berth-Error") == "upstream-paused"
    assert origin.requests == []
    u = upstream_stats(berth, origin.hostport)
    assert u["pause_mode"] == "reject"
    assert u["failures"]["upstream-paused"] == 1


def test_pause_reject_answers_already_held_requests(start_berth, origin):
    berth = start_berth(*SLOW_FLAGS)
    admin_json(berth, "POST", f"/pause?upstream={origin.hostport}")
    bg = Background(berth, origin, "/held")
    assert wait_for(lambda: upstream_stats(berth, origin.hostport)["pending"] == 1)
    admin_json(berth, "POST", f"/pause?upstream={origin.hostport}&mode=reject")
    r = bg.response(timeout=2)
    assert r.status_code == 503 and r.headers.get("Berth-Error") == "upstream-paused"


def test_hold_expiry_gives_503_upstream_paused(start_berth, origin):
    berth = start_berth(*SLOW_FLAGS)  # acquire timeout 5s, hold much shorter
    admin_json(berth, "POST", f"/pause?upstream={origin.hostport}&hold=400ms")
    assert upstream_stats(berth, origin.hostport)["timeouts_ms"]["hold"] == 400.0
    t0 = time.monotonic()
    r = proxied(berth, origin, "/held")
    elapsed = time.monotonic() - t0
    assert r.status_code == 503 and r.headers.get("Berth-Error") == "upstream-paused"
    assert 0.3 <= elapsed < 3.0, elapsed
    assert origin.requests == []


def test_acquire_timeout_bounds_hold_without_hold_parameter(start_berth, origin):
    berth = start_berth("--socket-timeout", "10s", "--acquire-timeout", "500ms")
    admin_json(berth, "POST", f"/pause?upstream={origin.hostport}")
    t0 = time.monotonic()
    r = proxied(berth, origin)
    elapsed = time.monotonic() - t0
    assert r.status_code == 503 and r.headers.get("Berth-Error") == "upstream-paused"
    assert 0.4 <= elapsed < 3.0, elapsed


def test_no_connection_from_an_earlier_epoch_is_reused(start_berth, origin):
    berth = start_berth(*SLOW_FLAGS)
    _warm_idle(berth, origin, 1)
    before_ports = set(origin.client_ports)
    # Two slow exchanges keep two connections busy (one reused, one new) across the pause and the resume.
    bg = [Background(berth, origin, "/sleep/1.0") for _ in range(2)]
    assert wait_for(lambda: (upstream_stats(berth, origin.hostport) or NO_POOL)["busy"] == 2)
    busy_ports = set(origin.client_ports)
    p = admin_json(berth, "POST", f"/pause?upstream={origin.hostport}")
    assert (p["closed_idle"], p["in_flight"], p["epoch"]) == (0, 2, 1)
    r = admin_json(berth, "POST", f"/resume?upstream={origin.hostport}")
    assert r["epoch"] == 2
    for b in bg:
        assert b.response().status_code == 200
    u = wait_for(lambda: (lambda s: s if s["busy"] == 0 else None)(upstream_stats(berth, origin.hostport)))
    closed = u["connections"]["closed"]
    assert closed["paused"] + closed["stale-epoch"] == 2, closed
    assert closed["stale-epoch"] == 2, closed  # resumed before they ended
    assert (u["idle"], u["open"]) == (0, 0), u
    assert established_to_port(origin.port) == []
    reused_before = u["connections"]["reused"]
    opened_before = u["connections"]["opened"]
    assert proxied(berth, origin, "/after").status_code == 200
    assert origin.client_ports[-1] not in busy_ports | before_ports, "a connection from epoch 1 was reused"
    u2 = upstream_stats(berth, origin.hostport)
    assert u2["connections"]["opened"] == opened_before + 1
    assert u2["connections"]["reused"] == reused_before


def test_busy_connection_ending_while_paused_is_closed(start_berth, origin):
    berth = start_berth(*SLOW_FLAGS)
    bg = Background(berth, origin, "/sleep/0.5")
    assert wait_for(lambda: (upstream_stats(berth, origin.hostport) or NO_POOL)["busy"] == 1)
    admin_json(berth, "POST", f"/pause?upstream={origin.hostport}")
    assert bg.response().status_code == 200
    u = wait_for(lambda: (lambda s: s if s["busy"] == 0 else None)(upstream_stats(berth, origin.hostport)))
    assert u["connections"]["closed"]["paused"] == 1
    assert (u["idle"], u["open"]) == (0, 0)
    assert established_to_port(origin.port) == []


def test_pause_with_drain_waits_for_busy_connections(start_berth, origin):
    berth = start_berth(*SLOW_FLAGS)
    bg = Background(berth, origin, "/sleep/1.0")
    assert wait_for(lambda: (upstream_stats(berth, origin.hostport) or NO_POOL)["busy"] == 1)
    t0 = time.monotonic()
    ans = admin_json(berth, "POST", f"/pause?upstream={origin.hostport}&drain=10s")
    elapsed = time.monotonic() - t0
    assert bg.response().status_code == 200
    assert 0.5 <= elapsed < 5.0, f"drain answered after {elapsed:.2f}s"
    assert bg.result is not None and not bg.is_alive()
    assert ans["in_flight"] == 0 and ans["state"] == "paused"
    assert established_to_port(origin.port) == []


def test_pause_drain_bound_answers_when_time_is_up(start_berth, origin):
    berth = start_berth(*SLOW_FLAGS)
    bg = Background(berth, origin, "/sleep/2.0")
    assert wait_for(lambda: (upstream_stats(berth, origin.hostport) or NO_POOL)["busy"] == 1)
    t0 = time.monotonic()
    ans = admin_json(berth, "POST", f"/pause?upstream={origin.hostport}&drain=300ms")
    elapsed = time.monotonic() - t0
    # Answered because the 300 ms ran out, not because the request ended: it was still in flight (a 2 s sleep).
    # That is the causal check; how soon the answer reaches this process is the scheduler's.
    assert elapsed >= 0.25, elapsed
    assert ans["in_flight"] == 1
    assert bg.response().status_code == 200


def test_pause_unknown_upstream_creates_it_paused(start_berth, origin):
    berth = start_berth(*SLOW_FLAGS)
    ans = admin_json(berth, "POST", f"/pause?upstream={origin.hostport}")
    assert (ans["epoch"], ans["closed_idle"], ans["in_flight"]) == (1, 0, 0)
    doc = stats(berth)
    assert [u["upstream"] for u in doc["upstreams"]] == [origin.hostport]
    assert doc["upstreams"][0]["state"] == "paused"


def test_resume_prewarm_opens_connections(start_berth, origin):
    berth = start_berth(*SLOW_FLAGS)
    admin_json(berth, "POST", f"/pause?upstream={origin.hostport}")
    ans = admin_json(berth, "POST", f"/resume?upstream={origin.hostport}&prewarm=2")
    assert ans["prewarmed"] == 2 and ans["epoch"] == 2
    assert wait_for(lambda: upstream_stats(berth, origin.hostport)["idle"] == 2)
    assert len(wait_for(lambda: established_to_port(origin.port))) == 2
    assert proxied(berth, origin).status_code == 200
    u = upstream_stats(berth, origin.hostport)
    assert u["connections"]["opened"] == 2 and u["connections"]["reused"] == 1


def test_upstream_is_canonicalised(start_berth):
    berth = start_berth()
    assert admin_json(berth, "POST", "/pause?upstream=LOCALHOST:0080")["upstream"] == "localhost:80"
    assert admin_json(berth, "POST", "/pause?upstream=%5B::1%5D:9")["upstream"] == "[::1]:9"
    assert admin_json(berth, "POST", "/resume?upstream=127.0.0.1%3A9")["upstream"] == "127.0.0.1:9"
    names = [u["upstream"] for u in stats(berth)["upstreams"]]
    assert names == sorted(["localhost:80", "[::1]:9", "127.0.0.1:9"])
