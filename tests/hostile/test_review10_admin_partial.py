"""Review 10: an admin command refused on one worker (--max-upstreams, nothing to forget there) must leave no worker
changed. Each worker keeps its own table, so a pause can find the upstream known (and pause it) on one worker while
another has no room for it: the 503 then says "not paused", and must be true everywhere."""
import contextlib
import signal
import socket

from berthkit import Origin, RawClient, admin, admin_json, get_req, upstream_stats, wait_for

PAUSED_FIRST = "10.9.0.1:80"


def _hold_on_the_other_worker(b, hostport, seconds):
    """Callers sending a slow request to `hostport` until one is held (the worker that has room for its entry)
    rather than refused at once with 503 too-many-upstreams (the worker whose table is full); returns that caller."""
    for _ in range(60):
        c = RawClient(b.proxy, timeout=0.5)
        c.sendall(get_req(hostport, f"/sleep/{seconds}"))
        try:
            r = c.read_response()
        except (socket.timeout, TimeoutError):
            return c  # in flight: this worker made the entry
        c.close()
        assert r.status == 503 and r.header("Berth-Error") == "too-many-upstreams", r
    raise AssertionError(f"every caller to {hostport} landed on the full worker")


def _two_workers_known_apart(b, origin, other):
    """Worker A knows `origin` (a request in flight) and PAUSED_FIRST; worker B knows `other` (in flight) and
    PAUSED_FIRST: both tables full (--max-upstreams 2) with entries that may not be forgotten."""
    admin_json(b, "POST", f"/pause?upstream={PAUSED_FIRST}")
    x = RawClient(b.proxy, timeout=15)
    x.sendall(get_req(origin.hostport, "/sleep/8"))
    wait_for(lambda: (upstream_stats(b, origin.hostport) or {}).get("busy", 0) == 1,
             what="the first caller in flight to the origin")
    y = _hold_on_the_other_worker(b, other.hostport, 8)
    return x, y


@contextlib.contextmanager
def _full_tables(b, origin):
    """Both workers' tables full as `_two_workers_known_apart` leaves them, for the body of one test; yields the
    callers in flight (worker A's first), closed afterwards with the second origin."""
    other = Origin()
    callers = []
    try:
        callers = list(_two_workers_known_apart(b, origin, other))
        yield callers
    finally:
        for c in callers:
            c.close()
        other.close()


def test_a_pause_refused_on_one_worker_leaves_the_upstream_paused_on_none(berth, origin):
    b = berth("--workers", "2", "--max-upstreams", "2", "--socket-timeout", "20s")
    with _full_tables(b, origin):
        r = admin(b, "POST", f"/pause?upstream={origin.hostport}")
        if r.status == 200:
            return  # both workers had room after all (an entry freed meanwhile): nothing partial to see
        assert r.status == 503 and "too-many-upstreams" in r.text and "is not paused" in r.text, r.text
        entry = upstream_stats(b, origin.hostport)
        assert entry is not None and entry["state"] == "active", entry


def test_a_resume_refused_on_a_worker_that_never_knew_the_upstream_is_not_an_error(berth, origin):
    b = berth("--workers", "2", "--max-upstreams", "2", "--socket-timeout", "20s")
    with _full_tables(b, origin):
        # The paused-first entry is known on both workers: its resume is everywhere, as before.
        # The origin is known (in flight) on worker A only: its resume has nothing to release on B, where berth has no
        # room for an entry; the resume took effect wherever the upstream was known, and the answer says so.
        r = admin(b, "POST", f"/resume?upstream={origin.hostport}")
        assert r.status == 200, r.text
        # An upstream no worker knows, with no room anywhere, is still refused.
        r = admin(b, "POST", "/resume?upstream=10.9.0.2:80")
        assert r.status == 503 and "too-many-upstreams" in r.text, r.text


def test_a_pause_with_drain_refused_on_one_worker_is_answered_before_the_other_drains(berth, origin):
    # Worker A's request to the origin runs 8 s. A /pause?drain=30s that worker B cannot make room for must be
    # refused at once: before, A paused, waited for its request to finish (holding A's new requests to the origin
    # meanwhile), and only then heard that B had refused.
    b = berth("--workers", "2", "--max-upstreams", "2", "--socket-timeout", "20s")
    with _full_tables(b, origin) as callers:
        r = admin(b, "POST", f"/pause?upstream={origin.hostport}&drain=30s")
        assert r.status == 503 and "is not paused" in r.text, r.text
        # The origin's request on worker A is still running (its answer comes after 8 s): the 503 did not wait for it.
        x = callers[0]
        x.sock.setblocking(False)
        try:
            early = x.sock.recv(4096)
        except BlockingIOError:
            early = None
        assert early is None, "the refused pause waited for worker A's request to finish"
        assert upstream_stats(b, origin.hostport)["state"] == "active"


def test_a_watch_the_configuration_adds_on_reload_is_made_on_every_worker(berth, origin, tmp_path):
    # A freezer watch written in the file is bounded by the file, not by --max-upstreams: refused on the worker with
    # no room, it was made on the other only, so the frozen upstream's callers on that worker were sent to it.
    cgroup = tmp_path / "cg"
    cgroup.mkdir()
    (cgroup / "cgroup.events").write_text("populated 1\nfrozen 0\n")
    config = tmp_path / "berth.yaml"
    base = "workers: 2\nmax-upstreams: 2\nsocket-timeout: 20s\n"
    config.write_text(base)
    b = berth("--config", str(config))
    with _full_tables(b, origin):
        config.write_text(base + f'destinations:\n  - {{match: "{origin.hostport}", freezer: {cgroup}}}\n')
        b.proc.send_signal(signal.SIGHUP)
        b.wait_log("configuration reloaded")
        admin_json(b, "GET", "/stats")  # after every worker's share of the reload
        assert not [l for l in b.stderr_text().splitlines() if "freezer watch not made" in l], b.stderr_text()[-2000:]
