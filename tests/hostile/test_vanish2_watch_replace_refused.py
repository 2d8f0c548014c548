"""A /watch that moves an upstream to another cgroup and is refused (503: no descriptor place left, or an inotify
limit) must leave the watch it had: taking the refused one back used to end every watch of the upstream, and
resumed it while its container was still frozen, so requests went to a frozen container."""
import socket

from berthkit import admin, admin_json, upstream_stats
from hostile_wire import connect, read_response, status_of


def _cgroup(root, name, frozen):
    d = root / name
    d.mkdir()
    (d / "cgroup.events").write_text(f"populated 1\nfrozen {1 if frozen else 0}\n")
    return d


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


def test_a_refused_move_to_another_cgroup_keeps_the_frozen_one_watched(berth, origin, tmp_path):
    frozen = _cgroup(tmp_path, "frozen", True)
    other = _cgroup(tmp_path, "other", False)
    # Two workers, so every watch takes two places under max-callers; 6 places: this watch and two fillers.
    b = berth("--workers", "2", "--max-callers", "6", "--acquire-timeout", "10s")
    up = origin.hostport
    got = admin_json(b, "POST", f"/watch?upstream={up}&cgroup={frozen}")
    assert got["state"] == "paused" and got["paused_by"] == "watch", got
    for i in range(2):
        filler = _cgroup(tmp_path, f"filler{i}", False)
        admin_json(b, "POST", f"/watch?upstream=10.9.9.{i + 1}:80&cgroup={filler}")
    # Every place is taken: the move is refused on both workers.
    r = admin(b, "POST", f"/watch?upstream={up}&cgroup={other}")
    assert r.status == 503 and "max-callers" in r.text, (r.status, r.text)
    entry = upstream_stats(b, up)
    assert entry["state"] == "paused" and entry.get("paused_by") == "watch", entry
    assert entry.get("freezer", {}).get("cgroup") == str(frozen), entry
    # A filler's places back, so a caller is let in: its request is held, not sent to the frozen container.
    admin_json(b, "POST", "/unwatch?upstream=10.9.9.1:80")
    assert _held(b, up), "a request went to the upstream whose cgroup is frozen"
    assert origin.requests == [], origin.requests
