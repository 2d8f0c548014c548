"""A `/watch` of a cgroup path whose cgroup was removed and made again (a container replaced under the same name)
must watch the new cgroup, even when berth has not yet seen the old one go.

`/watch` with the cgroup an upstream already watches does nothing. With cgroup v1 the removal is seen only at the
next poll (100 ms), so an orchestrator that removes the container's cgroup, makes it again and says `/watch` within
that time got 200 for the old watch; the next poll then read the old cgroup's file (ENODEV), took the removal for the
new container's, and forgot the upstream: the new container's freezes went unseen, and its pooled connections lived
through them. (cgroup v2 has the same path, with the window of an inotify event berth has not read yet.)"""
import os
import time

from berthkit import admin, upstream_stats, wait_for
from e2e_helpers import send
from test_e2e_vm_restore import _Origin


def _watch(b, hostport, path):
    status, body = admin(b, "POST", f"/watch?upstream={hostport}&cgroup={path}")
    assert status == 200, body
    return body


def test_a_watch_of_a_cgroup_made_again_under_its_path_follows_the_new_one(berth, raw_origin, cgroup1_freezer):
    b = berth("--freezer-poll-interval", "200ms")
    o = _Origin(raw_origin)
    cg = cgroup1_freezer.make("slot-3")
    _watch(b, o.hostport, cg.path)
    assert send(b.proxy, o.hostport).status == 200
    # The container goes and another takes its name; the orchestrator watches it at once, before the next poll.
    os.rmdir(cg.path)
    os.mkdir(cg.path)
    _watch(b, o.hostport, cg.path)
    time.sleep(0.6)  # three polls: the old cgroup's removal has certainly been read
    up = upstream_stats(b, o.hostport)
    assert up is not None, "the upstream was forgotten with the old cgroup, though the new one was watched"
    assert up.get("freezer", {}).get("cgroup") == cg.path, up
    cg.freeze()
    wait_for(lambda: upstream_stats(b, o.hostport)["state"] == "paused", timeout=5,
             what="the new cgroup's freeze pausing the upstream")
    cg.thaw()
    wait_for(lambda: upstream_stats(b, o.hostport)["state"] == "active", timeout=5, what="the thaw resuming it")
    t = upstream_stats(b, o.hostport)
    assert t["open"] == t["idle"] + t["busy"] + t["connecting"], t
