"""A `/watch` that finds no free descriptor to read its cgroup's state file is berth's shortage, 503, not a 400 (adv4).

With `--max-callers` above what RLIMIT_NOFILE leaves (berth warns at start), idle callers can take every descriptor;
the admin still answers on its reserve one. `/watch` then opens the cgroup's state file to probe it, the open fails
with EMFILE, and berth answered `400 cannot read .../cgroup.events: Too many open files`: a 400 says the request is
wrong, so an orchestrator gives up on a watch that would have worked a moment later, and the frozen container's
callers are not held. Item 35 made the same shortage on a connect 503 `out-of-descriptors`; `/watch` now says 503
too, and the same request succeeds once callers leave."""
import os
import resource
import time

from berthkit import admin
from hostile_wire import connect

LIMIT = 64


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_a_watch_without_a_free_descriptor_is_503_and_works_once_one_is_free(berth, tmp_path):
    cgroup = tmp_path / "cg"
    cgroup.mkdir()
    (cgroup / "cgroup.events").write_text("populated 1\nfrozen 0\n")
    b = berth("--max-callers", "500", "--max-total", "4", "--max-per-route", "4",
              popen_kw={"preexec_fn": lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (LIMIT, LIMIT))})
    callers = []
    try:
        deadline = time.monotonic() + 10
        while fds(b.pid) < LIMIT and time.monotonic() < deadline:
            before = fds(b.pid)
            callers.append(connect(b.proxy))
            while fds(b.pid) == before and time.monotonic() < deadline:
                time.sleep(0.01)
        assert fds(b.pid) == LIMIT, fds(b.pid)
        r = admin(b, "POST", f"/watch?upstream=10.1.1.1:80&cgroup={cgroup}")
        assert r.status == 503, (r.status, r.text)
        assert "descriptor" in r.text, r.text
    finally:
        for c in callers:
            c.close()
    time.sleep(0.3)
    r = admin(b, "POST", f"/watch?upstream=10.1.1.1:80&cgroup={cgroup}")
    assert r.status == 200, (r.status, r.text)
