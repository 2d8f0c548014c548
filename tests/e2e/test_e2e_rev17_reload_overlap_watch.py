"""review17: items 121/127's take-back of a reload's refused freezer watches, with a second reload right behind the
first. Each worker keeps what its watches were before a reload's reconcile (`beforeReconcile`) until every worker has
reported; a second SIGHUP's reload ran its reconcile on worker 0 before worker 1's report of the first came back, so
the first reload's take-back found the second's record (the watch the first had just made) and kept it: worker 0
followed a cgroup that worker 1 had refused, and half the callers were held while the others went to the frozen
container. A reload now starts only once the one before it has been taken back or settled on every worker."""
import os
import signal
import socket
import threading
import time

from berthkit import upstream_stats, wait_for
from test_e2e_vanish2_inotify_limit import _cgroups, _freeze, _namespaced


def test_two_reloads_in_a_row_leave_a_refused_watch_on_no_worker(berth, origin, tmp_path):
    first, second = _cgroups(tmp_path, "first", "second")
    cfg = tmp_path / "berth.yaml"

    def config(*entries):
        lines = ["profile: same-region-failover", "workers: 2", "acquire-timeout: 5s", "destinations:"]
        text = "\n".join(lines + [f'  - {{match: "{m}", freezer: {c}}}' for m, c in entries]) + "\n"
        cfg.with_suffix(".new").write_text(text)
        os.rename(cfg.with_suffix(".new"), cfg)

    config(("10.1.1.1:80", first))
    b = berth("--config", str(cfg), profile=None, wrapper=_namespaced(5))
    config(("10.1.1.1:80", first), (origin.hostport, second))
    # A reload reads every file again (milliseconds: the trust store): signals every 2 ms for 60 ms make reloads one
    # right behind the other, each next one's reconcile racing the report worker 1 sends worker 0 for the one before.
    for _ in range(30):
        b.proc.send_signal(signal.SIGHUP)
        time.sleep(0.002)
    wait_for(lambda: b.stderr_text().count("configuration reloaded") >= 2, timeout=5, what="reloads")
    wait_for(lambda: b.stderr_text().count("refused freezer watches taken back") >= 1, timeout=5, what="a take-back")
    time.sleep(0.3)
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
