"""A `/watch` of a cgroup remade under its path while a request is in flight must outlive that request (rev20, of 148).

Item 148 makes such a `/watch` handle the old cgroup's removal first: the manager forgets the upstream's entry, as a
container's removal does. With a request in flight the forget is only marked (the entry goes with its last
connection), and the new watch, made on that same entry, did not cancel it: when the request ended, the entry was
dropped and the new watch with it, so the new container's freezes went unseen."""
import os
import time

from berthkit import admin, upstream_stats, wait_for
from e2e_helpers import send, send_in_flight
from test_e2e_vm_restore import _Origin


def _watch(b, hostport, path):
    status, body = admin(b, "POST", f"/watch?upstream={hostport}&cgroup={path}")
    assert status == 200, body
    return body


def test_a_rewatch_of_a_remade_cgroup_outlives_the_request_in_flight(berth, raw_origin, cgroup1_freezer):
    b = berth("--freezer-poll-interval", "200ms", "--socket-timeout", "5s")
    o = _Origin(raw_origin, delay=1.0)
    cg = cgroup1_freezer.make("slot-4")
    _watch(b, o.hostport, cg.path)
    result = send_in_flight(b, o.hostport, path="/slow")
    # The container goes and another takes its name; the orchestrator watches it at once, before the next poll.
    os.rmdir(cg.path)
    os.mkdir(cg.path)
    _watch(b, o.hostport, cg.path)
    assert result(15).status == 200
    time.sleep(0.6)  # three polls after the request's end
    up = upstream_stats(b, o.hostport)
    assert up is not None, "the upstream was forgotten with the request's end, though the new cgroup was watched"
    assert up.get("freezer", {}).get("cgroup") == cg.path, up
    cg.freeze()
    wait_for(lambda: upstream_stats(b, o.hostport)["state"] == "paused", timeout=5,
             what="the new cgroup's freeze pausing the upstream")
    cg.thaw()
    wait_for(lambda: upstream_stats(b, o.hostport)["state"] == "active", timeout=5, what="the thaw resuming it")
