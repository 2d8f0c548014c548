"""A freeze the kernel cannot finish (adv10): one task of the container waits where the cgroup v2 freezer cannot stop
it, so `cgroup.freeze` says 1 while `cgroup.events` keeps `frozen 0`, and the container's other processes, its
server among them, are frozen. runc waits up to 10 s for `frozen 1` and then gives up, leaving the freeze asked
for. berth must pause the upstream as soon as the freeze is asked for (v1's FREEZING already counts as frozen),
hold what arrives, and resume it when the freeze is taken back."""
import json
import threading
import time

import pytest

from berthkit import RawClient, admin, get_req, upstream_stats, wait_for, wait_upstream
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
