"""A freeze the kernel cannot finish (adv10): one task of the container waits where the cgroup v2 freezer cannot stop
it, so `cgroup.freeze` says 1 while `cgroup.events` keeps `frozen 0`, and the container's other processes, its
server among them, are frozen. runc waits up to 10 s for `frozen 1` and then gives up, leaving the freeze asked
for. berth must pause the upstream as soon as the freeze is asked for (v1's FREEZING already counts as frozen),
hold what arrives, and resume it when the freeze is taken back."""
import json
import os
import threading
import time

import pytest

from berthkit import RawClient, admin, get_req, upstream_stats, wait_for, wait_upstream
from berthkit.cgroup_helpers import Cgroup
from berthkit.invoker_sim import action_container
from berthkit.unfreezable import Unfreezable, unavailable


def _run(proxy, hostport, tag):
    """One POST /run on a caller connection of its own; (status, Berth-Error, answer JSON or None)."""
    c = RawClient(proxy, 20)
    try:
        body = json.dumps({"value": tag}).encode()
        msg = c.request(get_req(hostport, "/run", method="POST", body=body), "POST")
        return msg.status, dict((k.lower(), v) for k, v in msg.headers).get("berth-error"), (
            json.loads(msg.body) if msg.status == 200 else None)
    finally:
        c.close()


def _frozen(pid):
    """Whether the process sits in the freezer's trap (cgroup v2 freezes a task inside get_signal)."""
    with open(f"/proc/{pid}/wchan") as f:
        return f.read() in ("get_signal", "do_freezer_trap")


def test_a_freeze_that_cannot_complete_pauses_the_upstream(berth, cgroup2):
    """The freeze is asked for and never completes: the upstream is paused by the watch at once, a request sent
    meanwhile is held past the socket timeout (not sent to the frozen server, where it would end in 504
    read-timeout), and the thaw resumes the upstream and answers it on a connection opened after the thaw."""
    why = unavailable()
    if why:
        pytest.skip(why)
    b = berth("--socket-timeout", "1s", "--acquire-timeout", "20s")
    up = action_container(5000)
    try:
        cg = cgroup2.make("stuck")
        cg.add(up.pid)
        with Unfreezable(cg.path):
            assert admin(b, "POST", f"/watch?upstream={up.hostport}&cgroup={cg.path}").status == 200
            status, _, before = _run(b.proxy, up.hostport, "before")
            assert status == 200, status
            cg.ask(True)
            wait_for(lambda: _frozen(up.pid), timeout=5, what="the server frozen")
            time.sleep(0.3)
            assert not cg.frozen(), "the freeze completed: the waiting task was frozen after all"
            held = {}
            t = threading.Thread(target=lambda: held.setdefault("r", _run(b.proxy, up.hostport, "held")))
            t.start()
            try:
                # Past the socket timeout: sent to the frozen server, the request would be a 504 by now.
                t.join(2.5)
                st = upstream_stats(b, up.hostport)
                assert "r" not in held and st["state"] == "paused" and st["paused_by"] == "watch", (held, st)
                assert st["pending"] == 1 and st["freezer"]["frozen"] is True, st
            finally:
                cg.ask(False)
                t.join(20)
        status, error, answer = held["r"]
        assert status == 200 and answer["echo"] == "held", (status, error)
        assert answer["connection"] > before["connection"], "the held request went out on a connection from before the freeze"
        st = wait_upstream(b, up.hostport, lambda s: s["state"] == "active", what="resumed after the thaw")
        assert st["pauses"]["watch"] == 1 and st["resumes"] == 1, st
    finally:
        up.stop()


def _nested(cgroup2):
    """A pod cgroup with a container cgroup inside it (removed child first at teardown)."""
    pod = cgroup2.make("pod")
    path = os.path.join(pod.path, "ctr")
    os.mkdir(path)
    ctr = Cgroup(cgroup2, path)
    cgroup2.made.append(ctr)
    return pod, ctr


def test_a_freeze_of_the_parent_cgroup_pauses_the_watched_child(berth, cgroup2):
    """The container's cgroup is watched and its pod's (the parent's) is frozen: the child's `frozen` turns 1 through
    inheritance, and the kernel reports it on the child's own `cgroup.events`. The upstream pauses, a /watch made
    while the parent is frozen pauses at once, and the parent's thaw resumes both."""
    b = berth("--acquire-timeout", "20s")
    up = action_container(5000)
    try:
        pod, ctr = _nested(cgroup2)
        ctr.add(up.pid)
        assert admin(b, "POST", f"/watch?upstream={up.hostport}&cgroup={ctr.path}").status == 200
        assert _run(b.proxy, up.hostport, "before")[0] == 200
        pod.freeze()
        st = wait_upstream(b, up.hostport, lambda s: s["state"] == "paused", what="paused by the parent's freeze")
        assert st["paused_by"] == "watch" and st["freezer"]["frozen"] is True, st
        other = "127.0.0.1:9"
        got = admin(b, "POST", f"/watch?upstream={other}&cgroup={ctr.path}").json()
        assert got["frozen"] is True and got["state"] == "paused", got
        pod.thaw()
        wait_upstream(b, up.hostport, lambda s: s["state"] == "active", what="resumed by the parent's thaw")
        wait_upstream(b, other, lambda s: s["state"] == "active", what="the second watch resumed")
        assert _run(b.proxy, up.hostport, "after")[0] == 200
    finally:
        up.stop()


def test_a_freeze_of_the_parent_that_cannot_complete_pauses_the_child(berth, cgroup2):
    """The pod's freeze is asked for while a task of the container cannot be frozen: the child's `frozen` stays 0
    and its own `cgroup.freeze` says 0; only the parent's says 1. The upstream pauses all the same, and resumes when
    the parent's freeze is taken back. Before: still active 2 s into the freeze (the ancestor's file unread)."""
    why = unavailable()
    if why:
        pytest.skip(why)
    b = berth("--acquire-timeout", "20s")
    up = action_container(5000)
    try:
        pod, ctr = _nested(cgroup2)
        ctr.add(up.pid)
        with Unfreezable(ctr.path):
            assert admin(b, "POST", f"/watch?upstream={up.hostport}&cgroup={ctr.path}").status == 200
            pod.ask(True)
            try:
                wait_for(lambda: _frozen(up.pid), timeout=5, what="the server frozen")
                st = wait_upstream(b, up.hostport, lambda s: s["state"] == "paused", timeout=2,
                                   what="paused by the parent's freeze under way")
                assert st["paused_by"] == "watch" and st["freezer"]["frozen"] is True, st
            finally:
                pod.ask(False)
            wait_upstream(b, up.hostport, lambda s: s["state"] == "active", what="resumed when the freeze is taken back")
    finally:
        up.stop()
