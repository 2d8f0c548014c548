"""/watch at the inotify limit: berth runs in a user namespace of its own whose `max_inotify_watches` is 4 or 5 (the
limit of the machine is untouched), so a watch is refused on one worker or on both. What a refusal leaves must be
whole: no worker follows the refused cgroup, and an upstream already watched keeps the cgroup it had."""
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest

from berthkit import admin, upstream_stats, wait_for


def _namespaced(limit):
    """The wrapper that starts berth in a new user namespace with `limit` inotify registrations; skips without one."""
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare (util-linux)")
    probe = subprocess.run(["unshare", "--user", "--map-root-user", "sh", "-c", "echo 1 > /proc/sys/user/max_inotify_watches"],
                           capture_output=True, text=True, timeout=10)
    if probe.returncode != 0:
        pytest.skip(f"cannot set max_inotify_watches in a user namespace here: {probe.stderr.strip()}")
    return ["unshare", "--user", "--map-root-user", "sh", "-c", f'echo {limit} > /proc/sys/user/max_inotify_watches && exec "$0" "$@"']


def _cgroups(root, *names):
    out = []
    for n in names:
        d = root / n
        d.mkdir()
        (d / "cgroup.events").write_text("populated 1\nfrozen 0\n")
        out.append(d)
    return out


def _freeze(d, frozen=True):
    (d / "cgroup.events").write_text(f"populated 1\nfrozen {1 if frozen else 0}\n")


def test_a_watch_refused_by_one_worker_is_followed_by_none(berth, tmp_path):
    """Two workers, 5 registrations: the first watch takes 4 (each worker: the file and its directory), the second
    needs one more on each worker, so worker 0 makes it and worker 1 is refused. The 503 names the limit, and worker 0
    lets go: freezing the refused cgroup pauses nothing, the first watch still pauses its upstream."""
    b = berth("--workers", "2", wrapper=_namespaced(5))
    first, second = _cgroups(tmp_path, "first", "second")
    assert admin(b, "POST", f"/watch?upstream=10.1.1.1:80&cgroup={first}").status == 200
    r = admin(b, "POST", f"/watch?upstream=10.1.1.2:80&cgroup={second}")
    assert r.status == 503 and "max_user_watches" in r.text and "is not watched" in r.text, r.text
    _freeze(second)
    _freeze(first)
    wait_for(lambda: upstream_stats(b, "10.1.1.1:80").get("paused_by") == "watch", timeout=5, what="the first watch's pause")
    time.sleep(0.2)
    refused = upstream_stats(b, "10.1.1.2:80")
    assert refused is None or (refused["state"] == "active" and "freezer" not in refused), refused


def test_a_move_refused_at_the_limit_keeps_the_frozen_cgroup_watched(berth, tmp_path):
    """4 registrations, all taken by the watch of a frozen cgroup: moving the upstream to its sibling needs one more
    on each worker and is refused on both. The upstream stays paused by the watch of the frozen cgroup, and its thaw
    still resumes it. Before item 121 the refusal ended the watch and resumed the upstream at once."""
    b = berth("--workers", "2", wrapper=_namespaced(4))
    frozen, other = _cgroups(tmp_path, "frozen", "other")
    _freeze(frozen)
    got = admin(b, "POST", f"/watch?upstream=10.1.1.1:80&cgroup={frozen}").json()
    assert got["paused_by"] == "watch", got
    r = admin(b, "POST", f"/watch?upstream=10.1.1.1:80&cgroup={other}")
    assert r.status == 503 and "keeps the watch it had" in r.text, r.text
    up = upstream_stats(b, "10.1.1.1:80")
    assert up["state"] == "paused" and up["freezer"]["cgroup"] == str(frozen), up
    _freeze(frozen, False)
    wait_for(lambda: upstream_stats(b, "10.1.1.1:80")["state"] == "active", timeout=5, what="the thaw's resume")


def test_a_configured_watch_refused_by_one_worker_at_a_reload_is_followed_by_none(berth, origin, tmp_path):
    """The same refusal from a reload: a `freezer:` added to the file is made on worker 0 and refused on worker 1.
    Half a watch held the frozen upstream's callers on worker 0 while worker 1 sent its callers' requests to the
    frozen container, and /stats said the upstream was paused by the watch. Every worker must do the same: 16
    callers (spread over both workers by SO_REUSEPORT) are all held, or all served."""
    first, second = _cgroups(tmp_path, "first", "second")
    cfg = tmp_path / "berth.yaml"

    def config(*entries):
        lines = ["profile: same-region-failover", "workers: 2", "acquire-timeout: 5s", "destinations:"]
        cfg.write_text("\n".join(lines + [f'  - {{match: "{m}", freezer: {c}}}' for m, c in entries]) + "\n")

    config(("10.1.1.1:80", first))
    b = berth("--config", str(cfg), profile=None, wrapper=_namespaced(5))
    config(("10.1.1.1:80", first), (origin.hostport, second))
    b.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "freezer watch not made" in b.stderr_text(), timeout=5, what="the refusal logged")
    time.sleep(0.2)
    _freeze(second)
    time.sleep(0.3)
    results = [None] * 16

    def one(i):
        s = socket.create_connection(b.proxy, timeout=1.5)
        try:
            s.sendall(f"GET http://{origin.hostport}/{i} HTTP/1.1\r\nHost: {origin.hostport}\r\nConnection: close\r\n\r\n".encode())
            results[i] = s.recv(12)
        except socket.timeout:
            results[i] = "held"
        finally:
            s.close()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    held = results.count("held")
    assert held in (0, 16), f"{held} of 16 callers held, the rest sent to the frozen container: {results}"
    up = upstream_stats(b, origin.hostport)
    assert (held == 16) == (up is not None and up.get("paused_by") == "watch"), (held, up)


def _namespaced_instances(limit):
    """As `_namespaced`, limiting inotify descriptors (each worker makes one with its first cgroup v2 watch)."""
    _namespaced(1)
    return ["unshare", "--user", "--map-root-user", "sh", "-c", f'echo {limit} > /proc/sys/user/max_inotify_instances && exec "$0" "$@"']


def test_a_move_refused_by_one_worker_sends_no_held_request_meanwhile(berth, origin, tmp_path):
    """The upstream is held by the watch of a frozen cgroup v1 (polled, no inotify), 16 callers waiting on both
    workers. /watch moves it to a thawed cgroup v2: worker 0 makes its inotify descriptor and the watch, worker 1 may
    make no descriptor (max_inotify_instances 1) and refuses. Worker 0's part must not release its held callers to
    the frozen container before the refusal takes it back: a move lets go of the old hold only once every worker
    has made it."""
    v1 = tmp_path / "v1"
    v1.mkdir()
    (v1 / "freezer.state").write_text("FROZEN\n")
    (v2,) = _cgroups(tmp_path, "v2")
    b = berth("--workers", "2", "--acquire-timeout", "10s", "--freezer-poll-interval", "50ms",
              wrapper=_namespaced_instances(1))
    got = admin(b, "POST", f"/watch?upstream={origin.hostport}&cgroup={v1}").json()
    assert got["paused_by"] == "watch", got
    results = [None] * 16

    def one(i):
        s = socket.create_connection(b.proxy, timeout=3)
        try:
            s.sendall(f"GET http://{origin.hostport}/{i} HTTP/1.1\r\nHost: {origin.hostport}\r\nConnection: close\r\n\r\n".encode())
            results[i] = s.recv(12)
        except socket.timeout:
            results[i] = "held"
        finally:
            s.close()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    wait_for(lambda: upstream_stats(b, origin.hostport)["pending"] == 16, timeout=5, what="16 callers held")
    r = admin(b, "POST", f"/watch?upstream={origin.hostport}&cgroup={v2}")
    assert r.status == 503 and "max_user_instances" in r.text and "keeps the watch it had" in r.text, r.text
    for t in threads:
        t.join(5)
    assert origin.requests == [], f"{len(origin.requests)} held requests went to the frozen container"
    assert results.count("held") == 16, [x for x in results if x != "held"]
