"""The freezer watch on real cgroups: a Node keep-alive upstream moved into a cgroup made here, frozen as runc does
(cgroup.freeze, then `frozen 1` in cgroup.events) with no call to berth's /pause or /resume. berth must pause and
resume on its own, hold what arrives while frozen, and never send a request on a connection from before a freeze.
cgroup v1 (freezer.state, polled) too, where a freezer hierarchy is mounted. Skips, saying why, without cgroups."""
import json
import os
import subprocess
import threading
import time

from berthkit import RawClient, admin, get_req, upstream_stats, wait_upstream
from e2e_helpers import FIGURES, scale
from berthkit.invoker_sim import action_container

CYCLES = scale(5, 50)


def _run(client, hostport, tag):
    """One POST /run on the caller's keep-alive connection; (status, answer JSON or None)."""
    body = json.dumps({"value": tag}).encode()
    msg = client.request(get_req(hostport, "/run", method="POST", body=body), "POST")
    answer = json.loads(msg.body) if msg.status == 200 else None
    assert answer is None or answer["echo"] == tag, answer
    return msg.status, answer


def _run_once(proxy, hostport, tag):
    """One POST /run on a caller connection of its own, closed after the answer."""
    client = RawClient(proxy, 15)
    try:
        return _run(client, hostport, tag)
    finally:
        client.close()


def _watch(b, up, cg):
    status, body = admin(b, "POST", f"/watch?upstream={up.hostport}&cgroup={cg.path}")
    assert status == 200, body
    return body


def _ended_idle(st):
    """Pooled connections closed by a pause or by their server while idle."""
    closed = st["connections"]["closed"]
    return closed["paused"] + closed["peer-closed-idle"]


def _freeze_cycles(b, up, cg, cycles, frozen_for):
    """Each cycle: two activations, freeze, one activation sent while frozen (held), thaw; returns the answers of
    the held and the later activations, and the connection numbers used before each freeze."""
    client = RawClient(b.proxy, 15)
    log = []
    try:
        for i in range(cycles):
            before = [_run(client, up.hostport, f"before-{i}-{k}") for k in range(2)]
            assert all(s == 200 for s, _ in before), before
            used = max(a["connection"] for _, a in before)
            pre = upstream_stats(b, up.hostport)
            cg.freeze()
            st = wait_upstream(b, up.hostport, lambda s: s["state"] == "paused", what="the watch's pause")
            assert st["paused_by"] == "watch" and st["idle"] == 0, st
            # Each connection pooled before the freeze is closed by the pause, or by the server's own 300 ms
            # keep-alive timer if this process was slow to freeze it (a loaded machine): none is left either way.
            assert _ended_idle(st) - _ended_idle(pre) == pre["idle"], (pre, st)
            held = {}
            t = threading.Thread(target=lambda: held.setdefault("r", _run_once(b.proxy, up.hostport, f"held-{i}")))
            t.start()
            wait_upstream(b, up.hostport, lambda s: s["pending"] == 1, what="the request held while frozen")
            time.sleep(frozen_for)
            cg.thaw()
            t.join(15)
            after = _run(client, up.hostport, f"after-{i}")
            log.append((used, held.get("r"), after))
    finally:
        client.close()
    return log


def test_a_frozen_cgroup_pauses_the_upstream_with_no_call(berth, cgroup2):
    """cgroup v2: each freeze pauses the upstream (the pooled connection closed at once, a new request held), each
    thaw resumes it with a new epoch; every request after a thaw goes on a connection opened after the thaw, and
    none fails although the server's keep-alive timeout (300 ms) runs out during every freeze (500 ms)."""
    b = berth("--acquire-timeout", "5s")
    up = action_container(300)
    try:
        cg = cgroup2.make("action")
        cg.add(up.pid)
        w = _watch(b, up, cg)
        assert w["cgroup_version"] == 2 and w["frozen"] is False and w["state"] == "active", w
        log = _freeze_cycles(b, up, cg, CYCLES, 0.5)
        for used, held, after in log:
            assert held is not None and held[0] == 200, held
            assert held[1]["connection"] > used, "the held request went out on a connection from before the freeze"
            assert after[0] == 200 and after[1]["connection"] >= held[1]["connection"], after
        st = upstream_stats(b, up.hostport)
        assert st["epoch"] == CYCLES + 1
        assert st["pauses"]["watch"] >= CYCLES and st["pauses"]["api"] == 0 and st["resumes"] == st["pauses"]["watch"], st
        # The pooled connection of each cycle's requests ended idle: by the freeze's pause, or, when this process
        # took longer than the server's 300 ms keep-alive to freeze it, by the server (counted per cycle above).
        assert _ended_idle(st) >= CYCLES and st["connections"]["closed"]["paused"] >= 1, st
        assert st["failures"]["upstream-reset"] == 0 and st["retries"] == 0, st
        assert st["freezer"] == {"cgroup": cg.path, "cgroup_version": 2, "frozen": False, "source": "api"}, st
        FIGURES.put("freezer_watch_v2", {"cycles": CYCLES, "epoch": st["epoch"], "pauses": st["pauses"]})
    finally:
        up.stop()


def test_api_and_watch_pauses_compose(berth, cgroup2):
    """/pause before the freeze and /resume while still frozen: the upstream stays paused until the thaw; a thaw
    while /pause still holds it leaves it paused until /resume."""
    b = berth("--acquire-timeout", "5s")
    up = action_container(300)
    try:
        cg = cgroup2.make("both")
        cg.add(up.pid)
        _watch(b, up, cg)
        assert admin(b, "POST", f"/pause?upstream={up.hostport}")[0] == 200
        cg.freeze()
        wait_upstream(b, up.hostport, lambda s: s.get("paused_by") == "both", what="both holds")
        status, body = admin(b, "POST", f"/resume?upstream={up.hostport}")
        assert (status, body["state"], body["paused_by"], body["epoch"]) == (200, "paused", "watch", 1), body
        cg.thaw()
        wait_upstream(b, up.hostport, lambda s: s["state"] == "active", what="the thaw's resume")
        assert admin(b, "POST", f"/pause?upstream={up.hostport}")[0] == 200
        cg.freeze()
        cg.thaw()
        # The watch sees the freeze and then the thaw, each a moment later: wait until it has let go again, which
        # leaves the API's hold (seeing only the freeze shows "both" in between).
        st = wait_upstream(b, up.hostport, lambda s: s["resumes"] == 1 and s["pauses"]["both"] == 2 and s.get("paused_by") == "api",
                           what="the second pause, the watch let go")
        assert st["state"] == "paused" and st["paused_by"] == "api", st
        status, body = admin(b, "POST", f"/resume?upstream={up.hostport}")
        assert body["state"] == "active" and body["epoch"] == 3, body
        # Both pauses began with /pause (api), and the watch joined each (both).
        assert upstream_stats(b, up.hostport)["pauses"] == {"api": 2, "watch": 0, "both": 2}
    finally:
        up.stop()


def test_a_removed_cgroup_forgets_its_upstream(berth, cgroup2):
    """Removing the container (its processes gone, then rmdir) drops the upstream's entry and its watch."""
    b = berth()
    up = action_container(300)
    cg = cgroup2.make("removed")
    cg.add(up.pid)
    _watch(b, up, cg)
    client = RawClient(b.proxy, 10)
    assert _run(client, up.hostport, "one")[0] == 200
    client.close()
    up.stop()
    cg.remove()
    deadline = time.monotonic() + 5
    while admin(b, "GET", f"/stats?upstream={up.hostport}")[0] != 404:
        assert time.monotonic() < deadline, upstream_stats(b, up.hostport)
        time.sleep(0.02)
    assert admin(b, "POST", f"/unwatch?upstream={up.hostport}")[1] == {"upstream": up.hostport, "unwatched": False}


def test_every_worker_follows_the_watch(berth, cgroup2):
    """--workers 2: each worker watches with its own descriptor; callers on either worker are held while frozen."""
    b = berth("--workers", "2", "--acquire-timeout", "5s")
    up = action_container(300)
    try:
        cg = cgroup2.make("workers")
        cg.add(up.pid)
        _watch(b, up, cg)
        cg.freeze()
        wait_upstream(b, up.hostport, lambda s: s["state"] == "paused", what="the pause")
        results = []
        # Eight callers on fresh connections: SO_REUSEPORT spreads them over both workers.
        ts = [threading.Thread(target=lambda i=i: results.append(_run_once(b.proxy, up.hostport, f"w{i}")))
              for i in range(8)]
        for t in ts:
            t.start()
        wait_upstream(b, up.hostport, lambda s: s["pending"] == 8, what="eight held requests")
        cg.thaw()
        for t in ts:
            t.join(15)
        assert sorted(s for s, _ in results) == [200] * 8, results
        st = upstream_stats(b, up.hostport)
        assert st["pauses"]["watch"] >= 1 and st["pauses"]["watch"] == st["resumes"], st
    finally:
        up.stop()


def test_v1_freezer_is_polled(berth, cgroup1_freezer):
    """cgroup v1: freezer.state is read every --freezer-poll-interval; FROZEN pauses, THAWED resumes."""
    b = berth("--freezer-poll-interval", "20ms", "--acquire-timeout", "5s")
    up = action_container(300)
    try:
        cg = cgroup1_freezer.make("action")
        cg.add(up.pid)
        assert _watch(b, up, cg)["cgroup_version"] == 1
        log = _freeze_cycles(b, up, cg, scale(2, 20), 0.5)
        assert all(held[0] == 200 and held[1]["connection"] > used for used, held, _ in log), log
    finally:
        up.stop()


def test_config_freezer_watches_from_start_and_refuses_a_bad_path(berth, cgroup2, tmp_path):
    """A destination's `freezer:` is watched from the start; a path that is not a cgroup stops berth with 64."""
    up = action_container(300)
    try:
        cg = cgroup2.make("configured")
        cg.add(up.pid)
        config = tmp_path / "berth.yaml"
        config.write_text(f"destinations:\n  - {{match: \"{up.hostport}\", freezer: {cg.path}}}\n")
        b = berth("--config", str(config))
        st = upstream_stats(b, up.hostport)
        assert st["freezer"]["source"] == "config" and st["state"] == "active", st
        cg.freeze()
        wait_upstream(b, up.hostport, lambda s: s.get("paused_by") == "watch", what="the configured watch's pause")
        cg.thaw()
        bad = tmp_path / "bad.yaml"
        bad.write_text(f"destinations:\n  - {{match: \"{up.hostport}\", freezer: {cg.path}-missing}}\n")
        p = subprocess.run([berth.binary, "--profile", "same-region", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0",
                            "--config", str(bad)], capture_output=True, text=True, timeout=20)
        assert p.returncode == 64, (p.returncode, p.stderr)
        assert f"destination {up.hostport}: freezer: no such cgroup directory: {cg.path}-missing" in p.stderr, p.stderr
        assert os.path.isdir(cg.path)
    finally:
        up.stop()
