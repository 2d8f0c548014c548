"""The configuration's `freezer:` key over stand-in cgroups (a directory holding a cgroup.events file, which berth's
probe accepts and whose writes inotify reports as the kernel's would): watched from the start, followed on SIGHUP,
a bad path keeps the running configuration, and a /watch made through the API is left alone by reloads.
tests/e2e/test_e2e_freezer_watch.py does the same on real cgroups."""
import signal
import subprocess

import requests

from berthkit import wait_for


def _cgroup(tmp_path, name, frozen=False):
    d = tmp_path / name
    d.mkdir()
    _events(d, frozen)
    return d


def _events(d, frozen):
    # One write of the same length, in place, as the kernel updates the file.
    with open(d / "cgroup.events", "r+" if (d / "cgroup.events").exists() else "w") as f:
        f.write(f"populated 1\nfrozen {1 if frozen else 0}\n")


def _upstream(b, hostport):
    r = requests.get(f"{b.admin_url}/stats?upstream={hostport}", timeout=10)
    return r.json()["upstreams"][0] if r.status_code == 200 else None


def _config(path, entries):
    lines = ["profile: same-region-failover", "destinations:" if entries else "destinations: []"]
    lines += [f'  - {{match: "{m}", freezer: {c}}}' for m, c in entries]
    path.write_text("\n".join(lines) + "\n")


def test_configured_freezers_follow_reloads(berth, tmp_path):
    a, b_dir = _cgroup(tmp_path, "a.scope"), _cgroup(tmp_path, "b.scope")
    cfg = tmp_path / "berth.yaml"
    _config(cfg, [("127.0.0.1:9", a)])
    b = berth("--config", str(cfg), profile=None)
    assert _upstream(b, "127.0.0.1:9")["freezer"] == {"cgroup": str(a), "cgroup_version": 2, "frozen": False, "source": "config"}

    _events(a, True)
    wait_for(lambda: (_upstream(b, "127.0.0.1:9") or {}).get("paused_by") == "watch", what="the configured watch's pause")

    # Moved to another cgroup that is not frozen: the watch lets go, the upstream resumes.
    _config(cfg, [("127.0.0.1:9", b_dir), ("127.0.0.1:10", a)])
    b.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: (_upstream(b, "127.0.0.1:9") or {}).get("freezer", {}).get("cgroup") == str(b_dir), what="the moved watch")
    assert _upstream(b, "127.0.0.1:9")["state"] == "active"
    assert _upstream(b, "127.0.0.1:10")["paused_by"] == "watch", "a new watch of a frozen cgroup pauses at once"

    # A path that is not a cgroup: the reload fails and both watches stay.
    _config(cfg, [("127.0.0.1:9", tmp_path / "missing")])
    b.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "reload failed" in b.stderr_text(), what="the failed reload")
    assert "destination 127.0.0.1:9: freezer: no such cgroup directory" in b.stderr_text()
    assert _upstream(b, "127.0.0.1:10")["freezer"]["cgroup"] == str(a)

    # The API takes over :10; a reload that drops both ends only the configured one.
    r = requests.post(f"{b.admin_url}/watch?upstream=127.0.0.1:10&cgroup={a}", timeout=10)
    assert r.status_code == 200, r.text
    _config(cfg, [])
    b.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "freezer" not in (_upstream(b, "127.0.0.1:9") or {}), what="the configured watch to end")
    assert _upstream(b, "127.0.0.1:10")["freezer"]["source"] == "api"


def test_a_configured_path_that_is_no_cgroup_stops_berth(berth, tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    cfg = tmp_path / "berth.yaml"
    _config(cfg, [("127.0.0.1:9", plain)])
    p = subprocess.run([berth.binary, "--config", str(cfg), "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"],
                       capture_output=True, text=True, timeout=20)
    assert p.returncode == 64, (p.returncode, p.stderr)
    assert f"berth: destination 127.0.0.1:9: freezer: {plain} is not a cgroup with a freezer" in p.stderr, p.stderr
    assert p.stdout == "", "nothing was served"
