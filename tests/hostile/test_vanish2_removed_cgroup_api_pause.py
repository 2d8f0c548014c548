"""A watched container removed while the orchestrator's /pause also holds its upstream: the watch ends with its
cgroup, but the orchestrator's hold is its own ("the upstream resumes only when neither does", api.md). The removal
forgot the whole entry, pause included, so requests went at once to whatever listened at the address (a replacement
container still starting) before the orchestrator's /resume. The entry must stay paused by the API until /resume."""
import os
import socket

from berthkit import admin_json, upstream_stats, wait_for
from hostile_wire import connect, read_response, status_of


def _held(b, hostport):
    """Whether a GET to `hostport` is held (no answer within a second) rather than forwarded."""
    s = connect(b.proxy, timeout=1)
    try:
        s.sendall(f"GET http://{hostport}/ HTTP/1.1\r\nHost: {hostport}\r\nConnection: close\r\n\r\n".encode())
        read_response(s)
        return False
    except socket.timeout:
        return True
    finally:
        s.close()


def test_a_removed_cgroup_ends_the_watch_but_not_the_api_pause(berth, origin, tmp_path):
    cgroup = tmp_path / "ctr"
    cgroup.mkdir()
    (cgroup / "cgroup.events").write_text("populated 1\nfrozen 1\n")
    b = berth("--workers", "2", "--acquire-timeout", "10s")
    up = origin.hostport
    admin_json(b, "POST", f"/watch?upstream={up}&cgroup={cgroup}")
    got = admin_json(b, "POST", f"/pause?upstream={up}")
    assert upstream_stats(b, up)["paused_by"] == "both", upstream_stats(b, up)
    os.remove(cgroup / "cgroup.events")
    os.rmdir(cgroup)
    wait_for(lambda: "freezer" not in (upstream_stats(b, up) or {}), timeout=5, what="the watch ended")
    entry = upstream_stats(b, up)
    assert entry is not None and entry["state"] == "paused" and entry.get("paused_by") == "api", entry
    assert _held(b, up), "a request went out before the orchestrator's /resume"
    assert origin.requests == [], origin.requests
    resumed = admin_json(b, "POST", f"/resume?upstream={up}")
    assert resumed["state"] == "active", resumed
    s = connect(b.proxy, timeout=5)
    s.sendall(f"GET http://{up}/after HTTP/1.1\r\nHost: {up}\r\nConnection: close\r\n\r\n".encode())
    head, _ = read_response(s)
    s.close()
    assert status_of(head) == 200, head
